// Small vector helpers for the CPU kernels, in the copy's ISA namespace (isa.h): 16 lanes with
// AVX-512, 8 with AVX2+FMA, portable C++ otherwise. Every ISA gives the same results up to
// rounding (a different lane count sums in a different order); within one ISA the order is
// fixed, so results are deterministic on one machine.
#ifndef GISP_BACKEND_CPU_SIMD_H_
#define GISP_BACKEND_CPU_SIMD_H_

#include <cmath>
#include <cstdint>

#include "gisp/backend/cpu/isa.h"

GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {
namespace simd {

// exp(x): Cody-Waite range reduction and a degree-6 polynomial; relative error about 2e-7
// (within 2 ulp of expf) over the whole float range, 0 below -87.3, +inf above 88.7. The 8- and
// 16-lane versions use the same constants, so they agree bit for bit lane by lane.
#define GISP_EXP_CONSTANTS                                                                \
  constexpr float kMaxX = 88.7f, kMinX = -87.3f, kLog2e = 1.44269504088896341f;           \
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;                        \
  constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f; \
  constexpr float kP3 = 4.1665795894e-2f, kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f

#if GISP_HAVE_AVX2
inline __m256 Exp8(__m256 x) {
  GISP_EXP_CONSTANTS;
  const __m256 too_small = _mm256_cmp_ps(x, _mm256_set1_ps(kMinX), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kMinX)), _mm256_set1_ps(kMaxX));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kP0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP5));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n: n is in [-126, 128]; split into two halves so 2^128 does not overflow the bias.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i half = _mm256_srai_epi32(ni, 1);
  const __m256i rest = _mm256_sub_epi32(ni, half);
  const __m256 s1 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
  const __m256 s2 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(rest, _mm256_set1_epi32(127)), 23));
  return _mm256_andnot_ps(too_small, _mm256_mul_ps(_mm256_mul_ps(p, s1), s2));
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

#if GISP_HAVE_AVX512
inline __m512 Exp16(__m512 x) {
  GISP_EXP_CONSTANTS;
  const __mmask16 too_small = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kMinX), _CMP_LT_OQ);
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kMinX)), _mm512_set1_ps(kMaxX));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kP0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP5));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i ni = _mm512_cvtps_epi32(n);
  const __m512i half = _mm512_srai_epi32(ni, 1);
  const __m512i rest = _mm512_sub_epi32(ni, half);
  const __m512 s1 =
      _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, _mm512_set1_epi32(127)), 23));
  const __m512 s2 =
      _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(rest, _mm512_set1_epi32(127)), 23));
  return _mm512_mask_mov_ps(_mm512_mul_ps(_mm512_mul_ps(p, s1), s2), too_small,
                            _mm512_setzero_ps());
}

// 16 lanes folded to 8 (lane i + lane i+8), then the AVX2 horizontal order.
inline __m256 Fold16(__m512 v) {
  return _mm256_add_ps(_mm512_castps512_ps256(v),
                       _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}
inline float HorizontalSum(__m512 v) { return HorizontalSum(Fold16(v)); }
inline float HorizontalMax(__m512 v) {
  return HorizontalMax(_mm256_max_ps(
      _mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}
#endif

#undef GISP_EXP_CONSTANTS

// Maximum of x[0..n).
inline float Max(const float* x, int64_t n) {
  float m = -INFINITY;
  int64_t i = 0;
#if GISP_HAVE_AVX512
  if (n >= 16) {
    __m512 vm = _mm512_loadu_ps(x);
    for (i = 16; i + 16 <= n; i += 16) vm = _mm512_max_ps(vm, _mm512_loadu_ps(x + i));
    m = HorizontalMax(vm);
  }
#elif GISP_HAVE_AVX2
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
#if GISP_HAVE_AVX512
  const __m512 vs16 = _mm512_set1_ps(shift);
  __m512 acc16 = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), vs16));
    _mm512_storeu_ps(y + i, e);
    acc16 = _mm512_add_ps(acc16, e);
  }
  sum = HorizontalSum(acc16);
#endif
#if GISP_HAVE_AVX2
  const __m256 vs = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
    _mm256_storeu_ps(y + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  sum += HorizontalSum(acc);
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
#if GISP_HAVE_AVX512
  const __m512 vs16 = _mm512_set1_ps(shift);
  __m512 acc16 = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16)
    acc16 = _mm512_add_ps(acc16, Exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), vs16)));
  sum = HorizontalSum(acc16);
#endif
#if GISP_HAVE_AVX2
  const __m256 vs = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8)
    acc = _mm256_add_ps(acc, Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs)));
  sum += HorizontalSum(acc);
#endif
  for (; i < n; ++i) sum += std::exp(x[i] - shift);
  return sum;
}

// y[i] = scale * exp(x[i] - shift) (y may alias x).
inline void ScaledExp(float* y, const float* x, float shift, float scale, int64_t n) {
  int64_t i = 0;
#if GISP_HAVE_AVX512
  const __m512 vs16 = _mm512_set1_ps(shift);
  const __m512 vc16 = _mm512_set1_ps(scale);
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i,
                     _mm512_mul_ps(vc16, Exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), vs16))));
  }
#endif
#if GISP_HAVE_AVX2
  const __m256 vs = _mm256_set1_ps(shift);
  const __m256 vc = _mm256_set1_ps(scale);
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(vc, Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs))));
  }
#endif
  for (; i < n; ++i) y[i] = scale * std::exp(x[i] - shift);
}

// Dot product in f32 with a fixed summation order (16 or 8 lanes, then the tail).
inline float Dot(const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  float sum = 0.0f;
#if GISP_HAVE_AVX512
  __m512 acc16 = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16)
    acc16 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc16);
  sum = HorizontalSum(acc16);
#elif GISP_HAVE_AVX2
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
#if GISP_HAVE_AVX512
  __m512d acc0 = _mm512_setzero_pd();
  __m512d acc1 = _mm512_setzero_pd();
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(a + i);
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    const __m512d hi =
        _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    acc0 = _mm512_fmadd_pd(lo, lo, acc0);
    acc1 = _mm512_fmadd_pd(hi, hi, acc1);
  }
  double lanes[8];
  _mm512_storeu_pd(lanes, _mm512_add_pd(acc0, acc1));
  sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
        ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
#elif GISP_HAVE_AVX2
  __m256d acc0 = _mm256_setzero_pd();
  __m256d acc1 = _mm256_setzero_pd();
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(a + i);
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
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
}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END

#endif  // GISP_BACKEND_CPU_SIMD_H_
