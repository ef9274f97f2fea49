#include "gisp/base/dtype.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/base/cpu_features.h"

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
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

uint16_t F32ToBF16(float value) {
  uint32_t u;
  std::memcpy(&u, &value, sizeof(u));
  if (std::isnan(value)) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  // Round to nearest, ties to even: add 0x7fff plus the lowest kept bit.
  uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

float F16ToF32(uint16_t h) {
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
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

uint16_t F32ToF16(float value) {
  uint32_t u;
  std::memcpy(&u, &value, sizeof(u));
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {               // result is subnormal or zero
    if (abs < 0x33000000u) return sign;  // below half the smallest subnormal
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
#endif

bool UseX86V3() {
  static const bool v3 = HasX86V3();
  return v3;
}

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
