// SwiGLU kernels. Launchers return a cudaError_t value (0 = queued on `stream`).
#ifndef GISP_BACKEND_CUDA_SWIGLU_H_
#define GISP_BACKEND_CUDA_SWIGLU_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// out = silu(gate) * up; all [n] elements.
int SwigluForward(float* out, const float* gate, const float* up, int64_t n, Stream stream);
// d_gate, d_up from d_out; all [n]. d_gate / d_up may alias gate / up.
int SwigluBackward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                   const float* up, int64_t n, Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_SWIGLU_H_
