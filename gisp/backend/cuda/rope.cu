// Rotary position embedding in place: for i < Dh/2 the pair (x[i], x[i + Dh/2]) is rotated by
// the angle of position pos_offset + t. One thread per pair; the pairs are disjoint, so the
// in-place update needs no synchronization.
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/rope.h"

namespace gisp {
namespace gpu {
namespace {

// x: [B, T, H, Dh]; cos, sin: [P, Dh/2]. Grid-stride over B * T * H * (Dh/2) pairs.
__global__ void RopeKernel(float* x, const float* cos, const float* sin, int64_t pos_offset,
                           float sign, int64_t t, int64_t h, int64_t half, int64_t pairs) {
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < pairs;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = idx % half;
    const int64_t row = idx / half;  // (b * T + t) * H + h
    const int64_t ti = (row / h) % t;
    const int64_t table = (pos_offset + ti) * half + i;
    const float c = cos[table];
    const float s = sin[table];
    float* p = x + row * 2 * half;
    const float x1 = p[i];
    const float x2 = p[i + half];
    p[i] = x1 * c - sign * x2 * s;
    p[i + half] = x2 * c + sign * x1 * s;
  }
}

}  // namespace

int Rope(float* x, const float* cos, const float* sin, int64_t pos_offset, bool inverse, int64_t b,
         int64_t t, int64_t h, int64_t dh, Stream stream) {
  const int64_t half = dh / 2;
  const int64_t pairs = b * t * h * half;
  if (pairs == 0) return 0;
  RopeKernel<<<GridFor(pairs), kThreads, 0, stream>>>(x, cos, sin, pos_offset,
                                                      inverse ? -1.0f : 1.0f, t, h, half, pairs);
  return LaunchStatus();
}

}  // namespace gpu
}  // namespace gisp
