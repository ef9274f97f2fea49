// Element conversion between float dtypes on the device. Returns a cudaError_t value.
#ifndef GISP_BACKEND_CUDA_CONVERT_H_
#define GISP_BACKEND_CUDA_CONVERT_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// dst[i] = src[i] for i < n, converted from `src_type` to `dst_type` (any pair among kF64, kF32,
// kBF16, kF16; the same type copies). The rounding matches gisp::ConvertElements bit for bit:
// through f32, round to nearest even, NaN stays NaN, overflow gives infinity.
int Convert(void* dst, ElemType dst_type, const void* src, ElemType src_type, int64_t n,
            Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_CONVERT_H_
