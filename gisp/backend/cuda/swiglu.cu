// SwiGLU: out = silu(gate) * up with silu(g) = g * sigmoid(g). Elementwise; each thread reads
// all of its inputs before writing, so outputs may alias inputs.
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/swiglu.h"

namespace gisp {
namespace gpu {
namespace {

__device__ __forceinline__ float Sigmoid(float g) { return 1.0f / (1.0f + expf(-g)); }

__global__ void SwigluForwardKernel(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    out[i] = g * Sigmoid(g) * up[i];
  }
}

// d_up = dy * silu(g); d_gate = dy * u * sig * (1 + g * (1 - sig)).
__global__ void SwigluBackwardKernel(float* d_gate, float* d_up, const float* d_out,
                                     const float* gate, const float* up, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    const float u = up[i];
    const float dy = d_out[i];
    const float sig = Sigmoid(g);
    d_gate[i] = dy * u * sig * (1.0f + g * (1.0f - sig));
    d_up[i] = dy * g * sig;
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
