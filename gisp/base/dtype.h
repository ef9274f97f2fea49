// Element types gisp stores tensors in, and conversions between them.
//
// Compute on the CPU is always f32; bf16 and f16 are storage types (checkpoints, CUDA weights).
#ifndef GISP_BASE_DTYPE_H_
#define GISP_BASE_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {

enum class DType : int32_t {
  kF32 = 0,
  kBF16 = 1,
  kF16 = 2,
  kI32 = 3,
  kF64 = 4,  // tests and the double-precision reference backend only
};

// Bytes per element.
size_t DTypeSize(DType dtype);

// Lower-case name as used in messages and reports: "f32", "bf16", "f16", "i32", "f64".
absl::string_view DTypeName(DType dtype);

// Parses a safetensors dtype string ("F32", "BF16", "F16", "I32", "F64"). Unsupported names (I8,
// F8_E4M3, ...) give InvalidArgument naming the value.
absl::StatusOr<DType> DTypeFromSafetensors(absl::string_view name);
absl::string_view DTypeToSafetensors(DType dtype);

// Scalar conversions. bf16/f16 -> f32 is exact; f32 -> bf16/f16 rounds to nearest even, keeps NaN
// a NaN and overflows to infinity, as PyTorch does.
float BF16ToF32(uint16_t bits);
uint16_t F32ToBF16(float value);
float F16ToF32(uint16_t bits);
uint16_t F32ToF16(float value);

// Converts `n` elements from `src` (of type `src_type`) into `dst` (of type `dst_type`).
// Supported: any pair among f64/f32/bf16/f16, and i32 -> i32. Vectorized for the hot f32 paths.
void ConvertElements(DType src_type, const void* src, DType dst_type, void* dst, size_t n);

}  // namespace gisp

#endif  // GISP_BASE_DTYPE_H_
