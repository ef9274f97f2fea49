// RMSNorm forward and backward. Row statistics accumulate in double (a 4096-wide row of squares
// loses ~1e-5 relative in f32); the weight gradient is summed per column range in row order,
// so it does not depend on the number of threads.
#include <cmath>

#include "gisp/backend/cpu/ops.h"
#include "gisp/backend/cpu/simd.h"

// Compiled once per ISA (isa.h); CreateCpuBackend runs a copy only on a CPU that has its ISA.
GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {

void RmsNormForward(float* out, float* inv_rms, const float* x, const float* weight, float eps,
                    int64_t n, int64_t d) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * d;
    const float r = static_cast<float>(1.0 / std::sqrt(simd::SumSquares(xi, d) / d + eps));
    inv_rms[i] = r;
    float* oi = out + i * d;
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) oi[c] = xi[c] * r * weight[c];
  }
}

void RmsNormBackward(float* d_x, float* d_weight, const float* d_out, const float* x,
                     const float* weight, const float* inv_rms, int64_t n, int64_t d,
                     Scratch* /*scratch*/) {
  // y = x * r * w with r = (mean(x^2) + eps)^-1/2:
  // dx = r * (dy * w) - x * r^3 / D * sum_j(dy_j * w_j * x_j).
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * d;
    const float* gi = d_out + i * d;
    float* dxi = d_x + i * d;
    const float r = inv_rms[i];
    double dot = 0.0;
    for (int64_t c = 0; c < d; ++c) dot += static_cast<double>(gi[c]) * weight[c] * xi[c];
    const float coef = static_cast<float>(dot * r * r * r / d);
#pragma omp simd
    for (int64_t c = 0; c < d; ++c) dxi[c] += gi[c] * weight[c] * r - xi[c] * coef;
  }
  if (d_weight == nullptr) return;
  ForColumnRanges(d, [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x + i * d;
      const float* gi = d_out + i * d;
      const float r = inv_rms[i];
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) d_weight[c] += gi[c] * xi[c] * r;
    }
  });
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END
