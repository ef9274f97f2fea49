#include "gisp/base/cpu_features.h"

namespace gisp {

bool HasX86V3() {
#if GISP_X86_V3
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}

std::string CpuFeatureSummary() {
#if GISP_X86_V3
  __builtin_cpu_init();
  std::string s = "x86-64";
  if (__builtin_cpu_supports("sse4.2")) s += " sse4.2";
  if (__builtin_cpu_supports("avx")) s += " avx";
  if (__builtin_cpu_supports("avx2")) s += " avx2";
  if (__builtin_cpu_supports("fma")) s += " fma";
  if (__builtin_cpu_supports("f16c")) s += " f16c";
  if (__builtin_cpu_supports("avx512f")) s += " avx512f";
  return s;
#else
  return "not x86-64";
#endif
}

}  // namespace gisp
