// RMSNorm kernels. Launchers queue work on `stream` and return a cudaError_t value (0 = queued).
#ifndef GISP_BACKEND_CUDA_RMS_NORM_H_
#define GISP_BACKEND_CUDA_RMS_NORM_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// out = x * inv_rms * weight, inv_rms[i] = 1 / sqrt(mean(x[i, :]^2) + eps).
// out, x: [N, D]; inv_rms: [N]; weight: [D].
int RmsNormForward(float* out, float* inv_rms, const float* x, const float* weight, float eps,
                   int64_t n, int64_t d, Stream stream);

// d_x: [N, D] += dL/dx; d_weight: [D] += dL/dweight unless nullptr; d_out, x: [N, D];
// weight: [D]; inv_rms: [N]. scratch: ColumnReduceScratchBytes(N, D) bytes when d_weight is set.
int RmsNormBackward(float* d_x, float* d_weight, double* scratch, const float* d_out,
                    const float* x, const float* weight, const float* inv_rms, int64_t n, int64_t d,
                    Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_RMS_NORM_H_
