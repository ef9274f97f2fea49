// CPU features gisp's vectorized code needs, checked at run time. gisp compiles for baseline
// x86-64; the hot CPU kernels are compiled for x86-64-v3 (AVX2, FMA, F16C) inside
// GISP_X86_V3_BEGIN / GISP_X86_V3_END and only run after HasX86V3() said yes, so a host process on
// an older CPU gets a Status instead of dying with SIGILL.
#ifndef GISP_BASE_CPU_FEATURES_H_
#define GISP_BASE_CPU_FEATURES_H_

#include <string>

namespace gisp {

// True when this CPU runs x86-64-v3 code (AVX2, FMA, F16C, BMI2), the level of the CPU kernels.
// Always false off x86-64.
bool HasX86V3();
// A short description of the CPU's vector features, for messages: "x86-64 avx2 fma f16c avx512f".
std::string CpuFeatureSummary();

}  // namespace gisp

// Compiles the enclosed definitions for x86-64-v3. Headers are included before BEGIN so library
// code (and the template instances it makes) stays baseline: only functions defined between the
// markers use the wider instructions, and only code that checked HasX86V3() calls them.
#if defined(__x86_64__) && defined(__GNUC__)
#define GISP_X86_V3 1
#define GISP_X86_V3_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,f16c,bmi2\")")
#define GISP_X86_V3_END _Pragma("GCC pop_options")
#else
#define GISP_X86_V3 0
#define GISP_X86_V3_BEGIN
#define GISP_X86_V3_END
#endif

#endif  // GISP_BASE_CPU_FEATURES_H_
