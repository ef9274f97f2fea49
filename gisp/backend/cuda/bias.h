// Bias add and bias gradient. Launchers return a cudaError_t value (0 = queued on `stream`).
#ifndef GISP_BACKEND_CUDA_BIAS_H_
#define GISP_BACKEND_CUDA_BIAS_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// y: [N, C] += bias: [C] on every row.
int AddBias(float* y, const float* bias, int64_t n, int64_t c, Stream stream);
// d_bias: [C] += column sums of d_y: [N, C]. scratch: ColumnReduceScratchBytes(N, C) bytes.
int ColumnSum(float* d_bias, double* scratch, const float* d_y, int64_t n, int64_t c,
              Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_BIAS_H_
