// Stands in for gisp/base/cpu_features.cc in the clang fuzz build: clang 14's
// __builtin_cpu_supports does not know "f16c". The fuzz build compiles everything with
// -mavx2 -mfma -mf16c -mbmi2 (tools/fuzz.sh), so the binary already needs x86-64-v3.
#include "gisp/base/cpu_features.h"

namespace gisp {

bool HasX86V3() { return true; }

std::string CpuFeatureSummary() { return "x86-64-v3 (fuzz build)"; }

}  // namespace gisp
