// Rotary position embedding in place, rotate-half convention: for i < Dh/2 the pair
// (x[i], x[i + Dh/2]) is rotated by angle pos * inv_freq[i]. The inverse rotation is the
// backward pass.
#include "gisp/backend/cpu/ops.h"

// Compiled once per ISA (isa.h); CreateCpuBackend runs a copy only on a CPU that has its ISA.
GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {

void Rope(float* x, const float* cos, const float* sin, int64_t pos_offset, bool inverse, int64_t b,
          int64_t t, int64_t h, int64_t dh) {
  const int64_t half = dh / 2;
  const float sign = inverse ? -1.0f : 1.0f;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t bi = 0; bi < b; ++bi) {
    for (int64_t ti = 0; ti < t; ++ti) {
      const float* c = cos + (pos_offset + ti) * half;
      const float* s = sin + (pos_offset + ti) * half;
      for (int64_t hi = 0; hi < h; ++hi) {
        float* p = x + ((bi * t + ti) * h + hi) * dh;
#pragma omp simd
        for (int64_t i = 0; i < half; ++i) {
          const float x1 = p[i];
          const float x2 = p[i + half];
          p[i] = x1 * c[i] - sign * x2 * s[i];
          p[i + half] = x2 * c[i] + sign * x1 * s[i];
        }
      }
    }
  }
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END
