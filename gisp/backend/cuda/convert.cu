// Float conversions, mirroring gisp::ConvertElements (gisp/base/dtype.cc): the value is widened
// to double, narrowed to f32, and the 16-bit encodings round from that f32. f64 targets receive
// the wide value directly.
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/convert.h"

namespace gisp {
namespace gpu {
namespace {

__device__ __forceinline__ double Wide(double v) { return v; }
__device__ __forceinline__ double Wide(float v) { return v; }
__device__ __forceinline__ double Wide(Bf16 v) { return Bf16ToF32(v.bits); }
__device__ __forceinline__ double Wide(F16 v) { return F16ToF32(v.bits); }

__device__ __forceinline__ void Store(double* p, double wide) { *p = wide; }
__device__ __forceinline__ void Store(float* p, double wide) { *p = static_cast<float>(wide); }
__device__ __forceinline__ void Store(Bf16* p, double wide) {
  p->bits = F32ToBf16(static_cast<float>(wide));
}
__device__ __forceinline__ void Store(F16* p, double wide) {
  p->bits = F32ToF16(static_cast<float>(wide));
}

template <typename D, typename S>
__global__ void ConvertKernel(D* dst, const S* src, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    Store(dst + i, Wide(src[i]));
  }
}

template <typename D>
int LaunchFrom(D* dst, const void* src, ElemType src_type, int64_t n, Stream stream) {
  switch (src_type) {
    case ElemType::kF64:
      ConvertKernel<<<GridFor(n), kThreads, 0, stream>>>(dst, static_cast<const double*>(src), n);
      break;
    case ElemType::kF32:
      ConvertKernel<<<GridFor(n), kThreads, 0, stream>>>(dst, static_cast<const float*>(src), n);
      break;
    case ElemType::kBF16:
      ConvertKernel<<<GridFor(n), kThreads, 0, stream>>>(dst, static_cast<const Bf16*>(src), n);
      break;
    case ElemType::kF16:
      ConvertKernel<<<GridFor(n), kThreads, 0, stream>>>(dst, static_cast<const F16*>(src), n);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return LaunchStatus();
}

}  // namespace

int Convert(void* dst, ElemType dst_type, const void* src, ElemType src_type, int64_t n,
            Stream stream) {
  if (n == 0) return 0;
  switch (dst_type) {
    case ElemType::kF64:
      return LaunchFrom(static_cast<double*>(dst), src, src_type, n, stream);
    case ElemType::kF32:
      return LaunchFrom(static_cast<float*>(dst), src, src_type, n, stream);
    case ElemType::kBF16:
      return LaunchFrom(static_cast<Bf16*>(dst), src, src_type, n, stream);
    case ElemType::kF16:
      return LaunchFrom(static_cast<F16*>(dst), src, src_type, n, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace gpu
}  // namespace gisp
