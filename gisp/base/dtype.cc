#include "gisp/base/dtype.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/base/cpu_features.h"
#include "gisp/base/float16_bits.h"

#if GISP_X86_V3
#include <immintrin.h>
#endif

namespace gisp {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF64:
      return 8;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kBF16:
    case DType::kF16:
      return 2;
  }
  return 0;
}

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "f32";
    case DType::kBF16:
      return "bf16";
    case DType::kF16:
      return "f16";
    case DType::kI32:
      return "i32";
    case DType::kF64:
      return "f64";
  }
  return "unknown";
}

absl::StatusOr<DType> DTypeFromSafetensors(absl::string_view name) {
  if (name == "F32") return DType::kF32;
  if (name == "BF16") return DType::kBF16;
  if (name == "F16") return DType::kF16;
  if (name == "I32") return DType::kI32;
  if (name == "F64") return DType::kF64;
  return absl::InvalidArgumentError(absl::StrCat(
      "unsupported dtype \"", name, "\" (gisp reads F32, BF16, F16, F64 and I32 tensors)"));
}

absl::string_view DTypeToSafetensors(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kBF16:
      return "BF16";
    case DType::kF16:
      return "F16";
    case DType::kI32:
      return "I32";
    case DType::kF64:
      return "F64";
  }
  return "UNKNOWN";
}

float BF16ToF32(uint16_t bits) {
  const uint32_t u = Bf16ToF32Bits(bits);
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

uint16_t F32ToBF16(float value) {
  uint32_t u;
  std::memcpy(&u, &value, sizeof(u));
  return F32BitsToBf16(u);
}

float F16ToF32(uint16_t h) {
  const uint32_t u = F16ToF32Bits(h);
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

uint16_t F32ToF16(float value) {
  uint32_t u;
  std::memcpy(&u, &value, sizeof(u));
  return F32BitsToF16(u);
}

namespace {

#if GISP_X86_V3
GISP_X86_V3_BEGIN
// The widening conversions of checkpoint loading, 8 lanes at a time (x86-64-v3 only; callers
// check the CPU first).
size_t BF16ToF32V3(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    __m256i w = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(w));
  }
  return i;
}

size_t F16ToF32V3(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  return i;
}
GISP_X86_V3_END

bool UseX86V3() {
  static const bool v3 = HasX86V3();
  return v3;
}
#endif

void BF16ToF32Array(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
#if GISP_X86_V3
  if (UseX86V3()) i = BF16ToF32V3(src, dst, n);
#endif
  for (; i < n; ++i) dst[i] = BF16ToF32(src[i]);
}

void F16ToF32Array(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
#if GISP_X86_V3
  if (UseX86V3()) i = F16ToF32V3(src, dst, n);
#endif
  for (; i < n; ++i) dst[i] = F16ToF32(src[i]);
}

}  // namespace

void ConvertElements(DType src_type, const void* src, DType dst_type, void* dst, size_t n) {
  // Empty tensors may have null data, and memcpy from null is undefined even for 0 bytes.
  if (n == 0) return;
  if (src_type == dst_type) {
    std::memcpy(dst, src, n * DTypeSize(src_type));
    return;
  }
  // Go through f32: every supported pair is a float pair.
  auto load = [&](size_t i) -> double {
    switch (src_type) {
      case DType::kF64:
        return static_cast<const double*>(src)[i];
      case DType::kF32:
        return static_cast<const float*>(src)[i];
      case DType::kBF16:
        return BF16ToF32(static_cast<const uint16_t*>(src)[i]);
      case DType::kF16:
        return F16ToF32(static_cast<const uint16_t*>(src)[i]);
      case DType::kI32:
        return static_cast<double>(static_cast<const int32_t*>(src)[i]);
    }
    return 0.0;
  };
  if (dst_type == DType::kF32) {
    if (src_type == DType::kBF16) {
      BF16ToF32Array(static_cast<const uint16_t*>(src), static_cast<float*>(dst), n);
      return;
    }
    if (src_type == DType::kF16) {
      F16ToF32Array(static_cast<const uint16_t*>(src), static_cast<float*>(dst), n);
      return;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const double wide = load(i);
    const float v = static_cast<float>(wide);
    switch (dst_type) {
      case DType::kF64:
        static_cast<double*>(dst)[i] = wide;
        break;
      case DType::kF32:
        static_cast<float*>(dst)[i] = v;
        break;
      case DType::kBF16:
        static_cast<uint16_t*>(dst)[i] = F32ToBF16(v);
        break;
      case DType::kF16:
        static_cast<uint16_t*>(dst)[i] = F32ToF16(v);
        break;
      case DType::kI32:
        static_cast<int32_t*>(dst)[i] = static_cast<int32_t>(wide);
        break;
    }
  }
}

}  // namespace gisp
