// Bias add and bias gradient (column sums). Column sums run per column range in row order so
// the result does not depend on the thread count.
#include "gisp/backend/cpu/ops.h"

// Compiled once per ISA (isa.h); CreateCpuBackend runs a copy only on a CPU that has its ISA.
GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {

void AddBias(float* y, const float* bias, int64_t n, int64_t c) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    float* row = y + i * c;
#pragma omp simd
    for (int64_t j = 0; j < c; ++j) row[j] += bias[j];
  }
}

void ColumnSum(float* d_bias, const float* d_y, int64_t n, int64_t c) {
  ForColumnRanges(c, [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; ++i) {
      const float* row = d_y + i * c;
#pragma omp simd
      for (int64_t j = c0; j < c1; ++j) d_bias[j] += row[j];
    }
  });
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END
