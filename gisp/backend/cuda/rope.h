// Rotary position embedding. Launchers return a cudaError_t value (0 = queued on `stream`).
#ifndef GISP_BACKEND_CUDA_ROPE_H_
#define GISP_BACKEND_CUDA_ROPE_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// In place on x: [B, T, H, Dh], rotate-half convention. cos, sin: [P, Dh/2]; token t sits at
// position pos_offset + t. inverse applies the transpose rotation (the backward pass).
int Rope(float* x, const float* cos, const float* sin, int64_t pos_offset, bool inverse, int64_t b,
         int64_t t, int64_t h, int64_t dh, Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_ROPE_H_
