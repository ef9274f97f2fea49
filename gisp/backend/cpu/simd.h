// Small vector helpers for the CPU kernels: AVX2+FMA on x86-64 (compiled for x86-64-v3 between
// GISP_X86_V3_BEGIN/END; the CPU backend refuses CPUs without it), scalar code elsewhere; both
// give the same results up to rounding.
#ifndef GISP_BACKEND_CPU_SIMD_H_
#define GISP_BACKEND_CPU_SIMD_H_

#include <cmath>
#include <cstdint>

#include "gisp/base/cpu_features.h"

#if GISP_X86_V3
#include <immintrin.h>
#define GISP_HAVE_AVX2 1
#else
#define GISP_HAVE_AVX2 0
#endif

GISP_X86_V3_BEGIN

namespace gisp {
namespace simd {

#if GISP_HAVE_AVX2
// exp(x) for 8 lanes: Cody-Waite range reduction and a degree-6 polynomial; relative error
// about 2e-7 (within 2 ulp of expf) over the whole float range, 0 below -87.3, +inf above 88.7.
inline __m256 Exp8(__m256 x) {
  const __m256 max_x = _mm256_set1_ps(88.7f);
  const __m256 min_x = _mm256_set1_ps(-87.3f);
  const __m256 too_small = _mm256_cmp_ps(x, min_x, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, min_x), max_x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n: n is in [-126, 128]; split into two halves so 2^128 does not overflow the bias.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i half = _mm256_srai_epi32(ni, 1);
  const __m256i rest = _mm256_sub_epi32(ni, half);
  const __m256 s1 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
  const __m256 s2 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, _mm256_set1_epi32(127)), 23));
  __m256 result = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  return _mm256_andnot_ps(too_small, result);
}

inline float HorizontalSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

inline float HorizontalMax(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_max_ps(lo, hi);
  lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_max_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}
#endif

// Maximum of x[0..n).
inline float Max(const float* x, int64_t n) {
  float m = -INFINITY;
  int64_t i = 0;
#if GISP_HAVE_AVX2
  if (n >= 8) {
    __m256 vm = _mm256_loadu_ps(x);
    for (i = 8; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    m = HorizontalMax(vm);
  }
#endif
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// y[i] = exp(x[i] - shift); returns the sum of the y[i] (y may alias x).
inline float ExpShiftSum(float* y, const float* x, float shift, int64_t n) {
  int64_t i = 0;
  float sum = 0.0f;
#if GISP_HAVE_AVX2
  const __m256 vs = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
    _mm256_storeu_ps(y + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  sum = HorizontalSum(acc);
#endif
  for (; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

// Sum of exp(x[i] - shift) without storing.
inline float ExpShiftSumOnly(const float* x, float shift, int64_t n) {
  int64_t i = 0;
  float sum = 0.0f;
#if GISP_HAVE_AVX2
  const __m256 vs = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8)
    acc = _mm256_add_ps(acc, Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs)));
  sum = HorizontalSum(acc);
#endif
  for (; i < n; ++i) sum += std::exp(x[i] - shift);
  return sum;
}

// y[i] = scale * exp(x[i] - shift) (y may alias x).
inline void ScaledExp(float* y, const float* x, float shift, float scale, int64_t n) {
  int64_t i = 0;
#if GISP_HAVE_AVX2
  const __m256 vs = _mm256_set1_ps(shift);
  const __m256 vc = _mm256_set1_ps(scale);
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(vc, Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs))));
  }
#endif
  for (; i < n; ++i) y[i] = scale * std::exp(x[i] - shift);
}

// Dot product in f32 with a fixed summation order (8 lanes, then the tail).
inline float Dot(const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  float sum = 0.0f;
#if GISP_HAVE_AVX2
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8)
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  sum = HorizontalSum(acc);
#endif
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Sum of squares in double: RMSNorm statistics need more than f32 over long rows.
inline double SumSquares(const float* a, int64_t n) {
  int64_t i = 0;
  double sum = 0.0;
#if GISP_HAVE_AVX2
  __m256d acc0 = _mm256_setzero_pd();
  __m256d acc1 = _mm256_setzero_pd();
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(a + i);
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    acc0 = _mm256_fmadd_pd(lo, lo, acc0);
    acc1 = _mm256_fmadd_pd(hi, hi, acc1);
  }
  double lanes[4];
  _mm256_storeu_pd(lanes, _mm256_add_pd(acc0, acc1));
  sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
#endif
  for (; i < n; ++i) sum += static_cast<double>(a[i]) * a[i];
  return sum;
}

}  // namespace simd
}  // namespace gisp

GISP_X86_V3_END

#endif  // GISP_BACKEND_CPU_SIMD_H_
