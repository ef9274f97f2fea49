// Saliency reductions: sums of |w * g| per row and per column, in double. Launchers return a
// cudaError_t value (0 = queued on `stream`).
#ifndef GISP_BACKEND_CUDA_SALIENCY_H_
#define GISP_BACKEND_CUDA_SALIENCY_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// out: f64 [R] = sum_c |w[r, c] * g[r, c]| (overwritten). w: [R, C] in `w_type` (kF32, kBF16,
// kF16); g: f32 [R, C].
int AbsProdRowSum(double* out, const void* w, ElemType w_type, const float* g, int64_t r, int64_t c,
                  Stream stream);
// out: f64 [C] = sum_r |w[r, c] * g[r, c]| (overwritten). scratch:
// ColumnReduceScratchBytes(R, C) bytes.
int AbsProdColSum(double* out, double* scratch, const void* w, ElemType w_type, const float* g,
                  int64_t r, int64_t c, Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_SALIENCY_H_
