// SwiGLU: out = silu(gate) * up, silu(g) = g * sigmoid(g). Vectorized with simd::Exp16/Exp8: the
// exponentials of an [N, F] block are a visible share of a calibration pass otherwise.
#include "gisp/backend/activations.h"
#include "gisp/backend/cpu/ops.h"
#include "gisp/backend/cpu/simd.h"

// Compiled once per ISA (isa.h); CreateCpuBackend runs a copy only on a CPU that has its ISA.
GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {
namespace {

constexpr int64_t kBlock = 4096;  // elements per parallel task

#if GISP_HAVE_AVX2
inline __m256 Sigmoid8(__m256 g) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, simd::Exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
}
#endif
#if GISP_HAVE_AVX512
inline __m512 Sigmoid16(__m512 g) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, simd::Exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
}
#endif

}  // namespace

void SwigluForward(float* out, const float* gate, const float* up, int64_t n) {
  ForBlocks(n, kBlock, [&](int64_t i, int64_t end) {
#if GISP_HAVE_AVX512
    for (; i + 16 <= end; i += 16) {
      const __m512 g = _mm512_loadu_ps(gate + i);
      const __m512 sig = Sigmoid16(g);
      _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(g, sig), _mm512_loadu_ps(up + i)));
    }
#endif
#if GISP_HAVE_AVX2
    for (; i + 8 <= end; i += 8) {
      const __m256 g = _mm256_loadu_ps(gate + i);
      const __m256 sig = Sigmoid8(g);
      _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(g, sig), _mm256_loadu_ps(up + i)));
    }
#endif
    for (; i < end; ++i) out[i] = Swiglu(gate[i], up[i]);
  });
}

void SwigluBackward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                    const float* up, int64_t n) {
  // d_up = dy * silu(g); d_gate = dy * u * sig * (1 + g * (1 - sig)).
  ForBlocks(n, kBlock, [&](int64_t i, int64_t end) {
#if GISP_HAVE_AVX512
    const __m512 one16 = _mm512_set1_ps(1.0f);
    for (; i + 16 <= end; i += 16) {
      const __m512 g = _mm512_loadu_ps(gate + i);
      const __m512 u = _mm512_loadu_ps(up + i);
      const __m512 dy = _mm512_loadu_ps(d_out + i);
      const __m512 sig = Sigmoid16(g);
      const __m512 dsilu = _mm512_mul_ps(sig, _mm512_fmadd_ps(g, _mm512_sub_ps(one16, sig), one16));
      _mm512_storeu_ps(d_gate + i, _mm512_mul_ps(_mm512_mul_ps(dy, u), dsilu));
      _mm512_storeu_ps(d_up + i, _mm512_mul_ps(dy, _mm512_mul_ps(g, sig)));
    }
#endif
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
    for (; i < end; ++i) SwigluGrad(gate[i], up[i], d_out[i], &d_gate[i], &d_up[i]);
  });
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END
