// Device helpers shared by the kernels: launch geometry, 16-bit storage conversions that match
// the host's bit for bit (gisp/base/dtype.cc), and fixed-order reductions.
//
// Determinism: every reduction here combines values in an order fixed by the launch geometry
// alone (xor-butterfly within a warp, then warps in index order), never by timing, and no
// kernel in this backend uses floating-point atomics. The same inputs therefore give the same
// bits on the same GPU.
#ifndef GISP_BACKEND_CUDA_COMMON_CUH_
#define GISP_BACKEND_CUDA_COMMON_CUH_

#include <cuda_runtime.h>

#include <cstdint>

#include "gisp/base/float16_bits.h"

namespace gisp {
namespace gpu {

constexpr int kThreads = 256;  // threads per block for the simple kernels

// Blocks for a grid-stride loop over n items; capped because the loops cover the rest.
inline unsigned GridFor(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > (int64_t{1} << 20)) blocks = int64_t{1} << 20;
  return static_cast<unsigned>(blocks);
}

// The launch status of the kernel just queued (configuration errors surface here; faults
// during execution surface at the next synchronization).
inline int LaunchStatus() { return static_cast<int>(cudaGetLastError()); }

// 16-bit storage types as distinct tags (both are 2 raw bytes in memory).
struct Bf16 {
  uint16_t bits;
};
struct F16 {
  uint16_t bits;
};

// The host's conversions (gisp/base/float16_bits.h), on the device.
__device__ __forceinline__ float Bf16ToF32(uint16_t bits) {
  return __uint_as_float(Bf16ToF32Bits(bits));
}
__device__ __forceinline__ uint16_t F32ToBf16(float value) {
  return F32BitsToBf16(__float_as_uint(value));
}
__device__ __forceinline__ float F16ToF32(uint16_t h) { return __uint_as_float(F16ToF32Bits(h)); }
__device__ __forceinline__ uint16_t F32ToF16(float value) {
  return F32BitsToF16(__float_as_uint(value));
}

__device__ __forceinline__ float ToFloat(float v) { return v; }
__device__ __forceinline__ float ToFloat(Bf16 v) { return Bf16ToF32(v.bits); }
__device__ __forceinline__ float ToFloat(F16 v) { return F16ToF32(v.bits); }

// Sum over the 32 lanes of a warp. The xor butterfly leaves the same bits in every lane (each
// step adds the same two values in both partners, and addition is commutative).
template <typename T>
__device__ __forceinline__ T WarpSum(T v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float Max(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double Max(double a, double b) { return fmax(a, b); }

template <typename T>
__device__ __forceinline__ T WarpMax(T v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = Max(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024), returned to every thread.
// `shared` holds at least 33 values. Must be reached by all threads of the block.
template <typename T>
__device__ T BlockSum(T v, T* shared) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  v = WarpSum(v);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = lane < warps ? shared[lane] : T(0);
    w = WarpSum(w);
    if (lane == 0) shared[32] = w;
  }
  __syncthreads();
  const T result = shared[32];
  __syncthreads();  // the caller may reuse `shared`
  return result;
}

// Maximum over the block; same contract as BlockSum.
template <typename T>
__device__ T BlockMax(T v, T* shared) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  v = WarpMax(v);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = lane < warps ? shared[lane] : shared[0];
    w = WarpMax(w);
    if (lane == 0) shared[32] = w;
  }
  __syncthreads();
  const T result = shared[32];
  __syncthreads();
  return result;
}

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_COMMON_CUH_
