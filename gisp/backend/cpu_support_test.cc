// The CPU backend on CPUs with and without x86-64-v3. gisp is compiled for baseline x86-64 and its
// kernels for x86-64-v3, so on an older CPU CreateCpuBackend must answer with a Status naming what
// is missing, never die with SIGILL. tools/ci/suite_portable.sh runs this binary again under
// qemu-user emulating a CPU without AVX2 (Nehalem), where the second branch is taken.
#include <memory>
#include <string>

#include "gisp/backend/backend.h"
#include "gisp/base/cpu_features.h"
#include "gisp/base/dtype.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

TEST(CpuSupportTest, BackendIsCreatedExactlyWhenTheCpuHasX86V3) {
  auto backend = CreateCpuBackend();
  std::printf("cpu features: %s\n", CpuFeatureSummary().c_str());
  if (HasX86V3()) {
    ASSERT_TRUE(backend.ok()) << backend.status();
    // And it computes.
    Tensor x = (*backend)->Allocate({3}).value();
    ASSERT_TRUE((*backend)->Fill(x, 2.0f).ok());
    ASSERT_TRUE((*backend)->Add(x, x, x).ok());
    Tensor h = Tensor::Host({3}).value();
    ASSERT_TRUE((*backend)->Download(h, x).ok());
    EXPECT_EQ(h.f32()[2], 4.0f);
  } else {
    ASSERT_FALSE(backend.ok());
    EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(backend.status().message().find("x86-64-v3"), std::string::npos) << backend.status();
    std::printf("refused as expected: %s\n", backend.status().ToString().c_str());
  }
}

TEST(CpuSupportTest, DtypeConversionsWorkOnEveryCpu) {
  // The 16-bit widening paths dispatch on the CPU too: the same values either way.
  uint16_t bf[19], f16[19];
  float want[19];
  for (int i = 0; i < 19; ++i) {
    want[i] = static_cast<float>(i) * 0.25f - 2.0f;
    bf[i] = F32ToBF16(want[i]);
    f16[i] = F32ToF16(want[i]);
  }
  float got[19];
  ConvertElements(DType::kBF16, bf, DType::kF32, got, 19);
  for (int i = 0; i < 19; ++i) EXPECT_EQ(got[i], want[i]) << i;
  ConvertElements(DType::kF16, f16, DType::kF32, got, 19);
  for (int i = 0; i < 19; ++i) EXPECT_EQ(got[i], want[i]) << i;
}

}  // namespace
}  // namespace gisp
