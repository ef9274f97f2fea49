#include "gisp/base/dtype.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace gisp {
namespace {

// Reference rounding in double: the representable neighbour nearest to x, ties to even mantissa.
uint16_t RefF32ToBF16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  uint32_t lo = u & 0xffff0000u;
  uint32_t hi = lo + 0x10000u;
  float flo, fhi;
  std::memcpy(&flo, &lo, 4);
  std::memcpy(&fhi, &hi, 4);
  double dlo = std::fabs(static_cast<double>(x) - flo);
  double dhi = std::fabs(static_cast<double>(fhi) - x);
  if (dlo < dhi) return static_cast<uint16_t>(lo >> 16);
  if (dhi < dlo) return static_cast<uint16_t>(hi >> 16);
  return ((lo >> 16) & 1) ? static_cast<uint16_t>(hi >> 16) : static_cast<uint16_t>(lo >> 16);
}

TEST(DTypeTest, BF16RoundTripAndRounding) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1e4f, 1e4f);
  for (int i = 0; i < 100000; ++i) {
    float x = dist(rng);
    EXPECT_EQ(F32ToBF16(x), RefF32ToBF16(x)) << x;
  }
  EXPECT_EQ(BF16ToF32(F32ToBF16(1.0f)), 1.0f);
  EXPECT_TRUE(std::isnan(BF16ToF32(F32ToBF16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(BF16ToF32(F32ToBF16(std::numeric_limits<float>::infinity()))));
}

TEST(DTypeTest, F16MatchesExhaustiveDecodeEncode) {
  // Every finite f16 value must survive f16 -> f32 -> f16 unchanged.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    uint16_t bits = static_cast<uint16_t>(h);
    float f = F16ToF32(bits);
    if (std::isnan(f)) continue;
    EXPECT_EQ(F32ToF16(f), bits) << h;
  }
  EXPECT_EQ(F16ToF32(0x3c00), 1.0f);
  EXPECT_EQ(F16ToF32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(F32ToF16(65520.0f), 0x7c00);               // rounds to infinity
  EXPECT_EQ(F32ToF16(65519.0f), 0x7bff);
}

TEST(DTypeTest, F16RoundsToNearest) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> dist(-70000.f, 70000.f);
  for (int i = 0; i < 100000; ++i) {
    float x = dist(rng) * (i % 3 == 0 ? 1e-6f : 1.0f);
    uint16_t h = F32ToF16(x);
    double got = F16ToF32(h);
    if (std::isinf(got)) continue;
    // No other f16 may be strictly nearer.
    for (int d : {-1, 1}) {
      double other = F16ToF32(static_cast<uint16_t>(h + d));
      if (std::isnan(other) || std::isinf(other)) continue;
      EXPECT_LE(std::fabs(got - x), std::fabs(other - x)) << x;
    }
  }
}

TEST(DTypeTest, ConvertArraysMatchScalar) {
  std::vector<float> src(1003);
  for (size_t i = 0; i < src.size(); ++i) src[i] = std::sin(static_cast<float>(i)) * 100.0f;
  std::vector<uint16_t> bf(src.size()), hf(src.size());
  ConvertElements(DType::kF32, src.data(), DType::kBF16, bf.data(), src.size());
  ConvertElements(DType::kF32, src.data(), DType::kF16, hf.data(), src.size());
  std::vector<float> back_bf(src.size()), back_hf(src.size());
  ConvertElements(DType::kBF16, bf.data(), DType::kF32, back_bf.data(), src.size());
  ConvertElements(DType::kF16, hf.data(), DType::kF32, back_hf.data(), src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    EXPECT_EQ(bf[i], F32ToBF16(src[i]));
    EXPECT_EQ(back_bf[i], BF16ToF32(bf[i]));
    EXPECT_EQ(back_hf[i], F16ToF32(hf[i]));
  }
}

TEST(DTypeTest, SafetensorsNames) {
  EXPECT_EQ(*DTypeFromSafetensors("BF16"), DType::kBF16);
  auto bad = DTypeFromSafetensors("F8_E4M3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("F8_E4M3"), std::string::npos);
}

// Issue 9 (UBSan): empty tensors may have null data; converting zero elements touches nothing.
TEST(DTypeTest, ConvertingZeroElementsAcceptsNullPointers) {
  ConvertElements(DType::kF32, nullptr, DType::kF32, nullptr, 0);
  ConvertElements(DType::kBF16, nullptr, DType::kF32, nullptr, 0);
}

}  // namespace
}  // namespace gisp
