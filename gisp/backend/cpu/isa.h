// The instruction set one copy of the CPU kernels is compiled for. Every kernel source is built
// once per ISA: on x86-64 the Bazel targets :kernels_avx2 and :kernels_avx512 define
// GISP_CPU_ISA_AVX2 / GISP_CPU_ISA_AVX512; elsewhere (aarch64) one portable copy is built with
// neither. Each copy lives in its own namespace, gisp::cpu::avx2 / avx512 / generic (GISP_ISA),
// so no two copies share a symbol: an inline function emitted by both would otherwise leave the
// linker free to keep either body, and an AVX-512 body could then run on an AVX2 CPU.
//
// Only definitions between GISP_KERNELS_BEGIN and GISP_KERNELS_END use the wider instructions;
// kernel files include every header first, so library code stays baseline x86-64. The copy to
// run is chosen once, when a CPU backend is created, from CPUID (kernels.h).
#ifndef GISP_BACKEND_CPU_ISA_H_
#define GISP_BACKEND_CPU_ISA_H_

#if defined(GISP_CPU_ISA_AVX512) && defined(__x86_64__)
#include <immintrin.h>
#define GISP_ISA avx512
#define GISP_HAVE_AVX2 1
#define GISP_HAVE_AVX512 1
// prefer-vector-width=512: GCC would otherwise auto-vectorize some loops 256 bits wide. Left
// unformatted: _Pragma takes one string literal, it does not concatenate split ones.
// clang-format off
#define GISP_KERNELS_BEGIN _Pragma("GCC push_options") \
  _Pragma("GCC target(\"avx2,fma,f16c,bmi2,avx512f,avx512dq,avx512bw,avx512vl,prefer-vector-width=512\")")
// clang-format on
#define GISP_KERNELS_END _Pragma("GCC pop_options")
#elif defined(GISP_CPU_ISA_AVX2) && defined(__x86_64__)
#include <immintrin.h>
#define GISP_ISA avx2
#define GISP_HAVE_AVX2 1
#define GISP_HAVE_AVX512 0
#define GISP_KERNELS_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,f16c,bmi2\")")
#define GISP_KERNELS_END _Pragma("GCC pop_options")
#elif defined(GISP_CPU_ISA_AVX2) || defined(GISP_CPU_ISA_AVX512)
#error "GISP_CPU_ISA_AVX2 / GISP_CPU_ISA_AVX512 are x86-64 only"
#else
// Portable C++ (auto-vectorized by the compiler for the target's baseline, NEON on aarch64).
#define GISP_ISA generic
#define GISP_HAVE_AVX2 0
#define GISP_HAVE_AVX512 0
#define GISP_KERNELS_BEGIN
#define GISP_KERNELS_END
#endif

#endif  // GISP_BACKEND_CPU_ISA_H_
