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

__device__ __forceinline__ float Bf16ToF32(uint16_t bits) {
  return __uint_as_float(static_cast<uint32_t>(bits) << 16);
}

// Round to nearest even; NaN stays a quiet NaN with its payload's top bits (as the host does).
__device__ __forceinline__ uint16_t F32ToBf16(float value) {
  const uint32_t u = __float_as_uint(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

__device__ __forceinline__ float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      u = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 0x1f) {
    u = sign | 0x7f800000u | (mant << 13);
  } else {
    u = sign | (exp + 127 - 15) << 23 | (mant << 13);
  }
  return __uint_as_float(u);
}

// Round to nearest even with overflow to infinity; a line-by-line copy of the host's F32ToF16.
__device__ __forceinline__ uint16_t F32ToF16(float value) {
  const uint32_t u = __float_as_uint(value);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {                                               // subnormal or zero
    if (abs < 0x33000000u) return sign;
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 14..24
    uint32_t result = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }
  uint32_t result = ((abs >> 23) - 127 + 15) << 10 | ((abs >> 13) & 0x3ffu);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (result & 1u))) ++result;
  return static_cast<uint16_t>(sign | result);
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
