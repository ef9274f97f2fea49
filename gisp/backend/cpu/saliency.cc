// Saliency reductions: sums of |W * G| per row (q/k/v/gate/up rows of a unit) and per column
// (o/down columns). Accumulated in double: a unit sums up to d_model * d_head elements whose
// magnitudes span many decades, and ties at the pruning threshold must be decided on exact-ish
// values.
#include <cmath>

#include "gisp/backend/cpu/ops.h"

// Compiled once per ISA (isa.h); CreateCpuBackend runs a copy only on a CPU that has its ISA.
GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {

void AbsProdRowSum(double* out, const float* w, const float* g, int64_t r, int64_t c) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < r; ++i) {
    const float* wi = w + i * c;
    const float* gi = g + i * c;
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < c; ++j) acc += std::fabs(static_cast<double>(wi[j]) * gi[j]);
    out[i] = acc;
  }
}

void AbsProdColSum(double* out, const float* w, const float* g, int64_t r, int64_t c) {
  ForColumnRanges(c, [&](int64_t c0, int64_t c1) {
    if (c1 <= c0) return;
    double* acc = new double[c1 - c0]();
    for (int64_t i = 0; i < r; ++i) {
      const float* wi = w + i * c;
      const float* gi = g + i * c;
#pragma omp simd
      for (int64_t j = c0; j < c1; ++j)
        acc[j - c0] += std::fabs(static_cast<double>(wi[j]) * gi[j]);
    }
    for (int64_t j = c0; j < c1; ++j) out[j] = acc[j - c0];
    delete[] acc;
  });
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END
