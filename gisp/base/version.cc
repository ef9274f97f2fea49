#include "gisp/base/version.h"

namespace gisp {

const char* GispVersion() { return "0.1.0"; }

}  // namespace gisp
