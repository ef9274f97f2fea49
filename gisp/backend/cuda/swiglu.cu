// SwiGLU (gisp/backend/activations.h's formulas). Elementwise; each thread reads all of its
// inputs before writing, so outputs may alias inputs.
#include "gisp/backend/activations.h"
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/swiglu.h"

namespace gisp {
namespace gpu {
namespace {

__global__ void SwigluForwardKernel(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = Swiglu(gate[i], up[i]);
  }
}

__global__ void SwigluBackwardKernel(float* d_gate, float* d_up, const float* d_out,
                                     const float* gate, const float* up, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    // All inputs are read before either output is written (outputs may alias inputs).
    const float g = gate[i], u = up[i], dy = d_out[i];
    SwigluGrad(g, u, dy, &d_gate[i], &d_up[i]);
  }
}

}  // namespace

int SwigluForward(float* out, const float* gate, const float* up, int64_t n, Stream stream) {
  if (n == 0) return 0;
  SwigluForwardKernel<<<GridFor(n), kThreads, 0, stream>>>(out, gate, up, n);
  return LaunchStatus();
}

int SwigluBackward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                   const float* up, int64_t n, Stream stream) {
  if (n == 0) return 0;
  SwigluBackwardKernel<<<GridFor(n), kThreads, 0, stream>>>(d_gate, d_up, d_out, gate, up, n);
  return LaunchStatus();
}

}  // namespace gpu
}  // namespace gisp
