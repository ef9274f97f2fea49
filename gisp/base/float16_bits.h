// The 16-bit float formats' conversions to and from f32, on bit patterns: round to nearest even,
// NaN kept quiet, overflow to infinity, subnormals exact. The host's converters (dtype.h) and the
// CUDA kernels' (gisp/backend/cuda/common.cuh) both call these, so stored weights and
// activations convert to the same bits on either side.
#ifndef GISP_BASE_FLOAT16_BITS_H_
#define GISP_BASE_FLOAT16_BITS_H_

#include <cstdint>

#include "gisp/base/host_device.h"

namespace gisp {

// bf16 is the top half of an f32: widening is a shift.
GISP_HOST_DEVICE uint32_t Bf16ToF32Bits(uint16_t bits) { return static_cast<uint32_t>(bits) << 16; }

GISP_HOST_DEVICE uint16_t F32BitsToBf16(uint32_t u) {
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // qNaN
  // Round to nearest, ties to even: add 0x7fff plus the lowest kept bit.
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

GISP_HOST_DEVICE uint32_t F16ToF32Bits(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    if (mant == 0) return sign;
    int e = -1;  // subnormal: normalize
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    return sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
  }
  if (exp == 0x1f) return sign | 0x7f800000u | (mant << 13);
  return sign | (exp + 127 - 15) << 23 | (mant << 13);
}

GISP_HOST_DEVICE uint16_t F32BitsToF16(uint32_t u) {
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

}  // namespace gisp

#endif  // GISP_BASE_FLOAT16_BITS_H_
