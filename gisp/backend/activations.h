// SwiGLU's scalar formulas, shared by the CPU kernel's scalar tail (cpu/swiglu.cc) and the CUDA
// kernel (cuda/swiglu.cu): out = silu(g) * u with silu(g) = g * sigmoid(g), and its gradients
// d_up = dy * silu(g), d_gate = dy * u * sig * (1 + g * (1 - sig)).
#ifndef GISP_BACKEND_ACTIVATIONS_H_
#define GISP_BACKEND_ACTIVATIONS_H_

#include <math.h>

#include "gisp/base/host_device.h"

namespace gisp {

GISP_HOST_DEVICE float Sigmoid(float g) { return 1.0f / (1.0f + expf(-g)); }

GISP_HOST_DEVICE float Swiglu(float g, float u) { return g * Sigmoid(g) * u; }

GISP_HOST_DEVICE void SwigluGrad(float g, float u, float dy, float* d_gate, float* d_up) {
  const float sig = Sigmoid(g);
  *d_gate = dy * u * sig * (1.0f + g * (1.0f - sig));
  *d_up = dy * g * sig;
}

}  // namespace gisp

#endif  // GISP_BACKEND_ACTIVATIONS_H_
