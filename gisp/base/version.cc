#include "gisp/base/version.h"

namespace gisp {

// version.inc holds the VERSION file's text as a string literal (a genrule in BUILD.bazel).
const char* GispVersion() {
  return
#include "gisp/base/version.inc"
      ;
}

}  // namespace gisp
