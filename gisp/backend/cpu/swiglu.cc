// SwiGLU: out = silu(gate) * up, silu(g) = g * sigmoid(g). Vectorized with simd::Exp8: the
// exponentials of an [N, F] block are a visible share of a calibration pass otherwise.
#include <cmath>

#include "gisp/backend/cpu/ops.h"
#include "gisp/backend/cpu/simd.h"

// Compiled for x86-64-v3; CreateCpuBackend checks the CPU before any of this runs.
GISP_X86_V3_BEGIN

namespace gisp {
namespace cpu {
namespace {

constexpr int64_t kBlock = 4096;  // elements per parallel task

inline float Sigmoid(float g) { return 1.0f / (1.0f + std::exp(-g)); }

#if GISP_HAVE_AVX2
inline __m256 Sigmoid8(__m256 g) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, simd::Exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
}
#endif

}  // namespace

void SwigluForward(float* out, const float* gate, const float* up, int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    int64_t i = blk * kBlock;
    const int64_t end = i + kBlock < n ? i + kBlock : n;
#if GISP_HAVE_AVX2
    for (; i + 8 <= end; i += 8) {
      const __m256 g = _mm256_loadu_ps(gate + i);
      const __m256 sig = Sigmoid8(g);
      _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(g, sig), _mm256_loadu_ps(up + i)));
    }
#endif
    for (; i < end; ++i) out[i] = gate[i] * Sigmoid(gate[i]) * up[i];
  }
}

void SwigluBackward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                    const float* up, int64_t n) {
  // d_up = dy * silu(g); d_gate = dy * u * sig * (1 + g * (1 - sig)).
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    int64_t i = blk * kBlock;
    const int64_t end = i + kBlock < n ? i + kBlock : n;
#if GISP_HAVE_AVX2
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= end; i += 8) {
      const __m256 g = _mm256_loadu_ps(gate + i);
      const __m256 u = _mm256_loadu_ps(up + i);
      const __m256 dy = _mm256_loadu_ps(d_out + i);
      const __m256 sig = Sigmoid8(g);
      const __m256 dsilu = _mm256_mul_ps(sig, _mm256_fmadd_ps(g, _mm256_sub_ps(one, sig), one));
      _mm256_storeu_ps(d_gate + i, _mm256_mul_ps(_mm256_mul_ps(dy, u), dsilu));
      _mm256_storeu_ps(d_up + i, _mm256_mul_ps(dy, _mm256_mul_ps(g, sig)));
    }
#endif
    for (; i < end; ++i) {
      const float g = gate[i];
      const float u = up[i];
      const float dy = d_out[i];
      const float sig = Sigmoid(g);
      d_gate[i] = dy * u * sig * (1.0f + g * (1.0f - sig));
      d_up[i] = dy * g * sig;
    }
  }
}

}  // namespace cpu
}  // namespace gisp

GISP_X86_V3_END
