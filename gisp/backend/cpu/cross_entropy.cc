// Softmax cross-entropy per row, fused with its gradient so the [N, V] logits are read twice
// and written once (in place when d_logits aliases logits).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "gisp/backend/cpu/ops.h"
#include "gisp/backend/cpu/simd.h"

// Compiled once per ISA (isa.h); CreateCpuBackend runs a copy only on a CPU that has its ISA.
GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {

absl::Status CrossEntropy(float* nll, float* d_logits, const float* logits, const int32_t* targets,
                          const float* weights, int64_t n, int64_t v) {
  for (int64_t i = 0; i < n; ++i) {
    if (targets[i] < -1 || targets[i] >= v) {
      return absl::InvalidArgumentError(absl::StrCat("CrossEntropy: target ", targets[i],
                                                     " at row ", i, " outside [0, ", v, ")"));
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits + i * v;
    const int32_t target = targets[i];
    const float mx = simd::Max(row, v);
    const float sum = simd::ExpShiftSumOnly(row, mx, v);
    const float lse = mx + std::log(sum);
    nll[i] = target < 0 ? 0.0f : lse - row[target];
    if (d_logits != nullptr) {
      float* drow = d_logits + i * v;
      const float w = target < 0 ? 0.0f : weights[i];
      const float target_logit = target < 0 ? 0.0f : row[target];
      simd::ScaledExp(drow, row, lse, w, v);  // w * softmax
      if (target >= 0) drow[target] = w * (std::exp(target_logit - lse) - 1.0f);
    }
  }
  return absl::OkStatus();
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END
