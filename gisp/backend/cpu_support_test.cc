// The CPU backend on CPUs with and without x86-64-v3. gisp is compiled for baseline x86-64 and its
// kernels for x86-64-v3, so on an older CPU CreateCpuBackend must answer with a Status naming what
// is missing, never die with SIGILL. tools/ci/suite_portable.sh runs this binary again under
// qemu-user emulating a CPU without AVX2 (Nehalem), where the second branch is taken, and one
// with AVX2 but no AVX-512 (Haswell), where forcing the AVX-512 kernels must be refused.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gisp/backend/backend.h"
#include "gisp/base/cpu_features.h"
#include "gisp/base/dtype.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

// x86-64: the CPU runs the AVX2 copy exactly when it is x86-64-v3. Elsewhere (aarch64) the
// portable copy always runs.
bool CpuRunsSomeKernelCopy() {
#if defined(__x86_64__)
  return HasX86V3();
#else
  return true;
#endif
}

TEST(CpuSupportTest, BackendIsCreatedExactlyWhenTheCpuHasX86V3) {
  auto backend = CreateCpuBackend();
  std::printf("cpu features: %s\n", CpuFeatureSummary().c_str());
  EXPECT_EQ(AvailableCpuIsas().empty(), !CpuRunsSomeKernelCopy());
  if (CpuRunsSomeKernelCopy()) {
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

bool Available(const std::string& isa) {
  for (const std::string& a : AvailableCpuIsas()) {
    if (a == isa) return true;
  }
  return false;
}

TEST(CpuSupportTest, ForcedIsaIsAStatusNeverASigill) {
  std::string available;
  for (const std::string& a : AvailableCpuIsas()) available += " " + a;
  std::printf("kernel ISAs this CPU runs:%s\n", available.c_str());
  for (const char* isa : {"avx2", "avx512", "generic"}) {
    auto backend = CreateCpuBackendForIsa(isa);
    if (Available(isa)) {
      ASSERT_TRUE(backend.ok()) << backend.status();
      EXPECT_NE((*backend)->name().find(isa), std::string::npos) << (*backend)->name();
      Tensor x = (*backend)->Allocate({37}).value();
      ASSERT_TRUE((*backend)->Fill(x, 1.5f).ok());
      ASSERT_TRUE((*backend)->Add(x, x, x).ok());
      Tensor h = Tensor::Host({37}).value();
      ASSERT_TRUE((*backend)->Download(h, x).ok());
      EXPECT_EQ(h.f32()[36], 3.0f);
    } else {
      ASSERT_FALSE(backend.ok()) << isa;
      EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
      // A copy this build has but the CPU cannot run, or one this architecture's build lacks.
      EXPECT_TRUE(backend.status().message().find("this CPU has") != std::string::npos ||
                  backend.status().message().find("not in this build") != std::string::npos)
          << backend.status();
      std::printf("%s refused as expected: %s\n", isa, backend.status().ToString().c_str());
    }
  }
  auto bogus = CreateCpuBackendForIsa("sse9");
  ASSERT_FALSE(bogus.ok());
  EXPECT_EQ(bogus.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bogus.status().message().find("sse9"), std::string::npos) << bogus.status();
}

TEST(CpuSupportTest, EnvironmentVariableForcesTheIsa) {
  const char* old = std::getenv("GISP_CPU_ISA");
  const std::string saved = old == nullptr ? "" : old;
  for (const char* isa : {"avx2", "avx512", "generic"}) {
    ::setenv("GISP_CPU_ISA", isa, 1);
    auto forced = CreateCpuBackend();
    EXPECT_EQ(forced.ok(), Available(isa)) << forced.status();
    if (forced.ok()) {
      EXPECT_NE((*forced)->name().find(std::string(isa) + " kernels"), std::string::npos);
    } else {
      EXPECT_NE(forced.status().message().find("GISP_CPU_ISA="), std::string::npos)
          << forced.status();
    }
  }
  ::setenv("GISP_CPU_ISA", "fastest", 1);
  auto bogus = CreateCpuBackend();
  ASSERT_FALSE(bogus.ok());
  EXPECT_EQ(bogus.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bogus.status().message().find("GISP_CPU_ISA=fastest"), std::string::npos)
      << bogus.status();
  if (old == nullptr) {
    ::unsetenv("GISP_CPU_ISA");
  } else {
    ::setenv("GISP_CPU_ISA", saved.c_str(), 1);
  }
}

// The same inputs through every kernel copy this CPU runs: results differ only by rounding
// (docs/numerics.md, "CPU kernel ISAs"), and each copy repeats itself exactly.
TEST(CpuSupportTest, IsasAgreeWithinToleranceAndRepeatThemselves) {
  const std::vector<std::string> isas = AvailableCpuIsas();
  if (isas.size() < 2) GTEST_SKIP() << "this CPU runs fewer than two kernel ISAs";
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  const int64_t n = 9, v = 4099;
  Tensor logits = Tensor::Host({n, v}).value();
  for (int64_t i = 0; i < n * v; ++i) logits.f32()[i] = normal(rng);
  Tensor targets = Tensor::Host({n}, DType::kI32).value();
  Tensor weights = Tensor::Host({n}).value();
  for (int64_t i = 0; i < n; ++i) {
    targets.i32()[i] = static_cast<int32_t>((i * 977) % v);
    weights.f32()[i] = 1.0f;
  }
  // Per ISA: nll [n], d_logits [n, v], swiglu [n, v] (logits as gate and up).
  std::vector<std::vector<float>> results;
  for (const std::string& isa : isas) {
    auto be = CreateCpuBackendForIsa(isa).value();
    std::vector<float> first;
    for (int rep = 0; rep < 2; ++rep) {
      Tensor nll = be->Allocate({n}).value(), d = be->Allocate({n, v}).value();
      Tensor sw = be->Allocate({n, v}).value();
      ASSERT_TRUE(be->CrossEntropy(nll, d, logits, targets, weights).ok());
      ASSERT_TRUE(be->SwigluForward(sw, logits, logits).ok());
      std::vector<float> all(nll.f32(), nll.f32() + n);
      all.insert(all.end(), d.f32(), d.f32() + n * v);
      all.insert(all.end(), sw.f32(), sw.f32() + n * v);
      if (rep == 0) {
        first = all;
      } else {
        EXPECT_EQ(all, first) << isa << " is not deterministic";
      }
    }
    results.push_back(first);
  }
  // rel_inf (max |a - b| / max |a|, as gisp/testing/compare.h) per output.
  const size_t bounds[] = {0, static_cast<size_t>(n), static_cast<size_t>(n + n * v),
                           static_cast<size_t>(n + 2 * n * v)};
  const char* what[] = {"nll", "d_logits", "swiglu"};
  for (size_t k = 1; k < results.size(); ++k) {
    for (int part = 0; part < 3; ++part) {
      double diff = 0.0, scale = 0.0;
      for (size_t i = bounds[part]; i < bounds[part + 1]; ++i) {
        diff = std::max(diff, std::fabs(static_cast<double>(results[0][i]) - results[k][i]));
        scale = std::max(scale, std::fabs(static_cast<double>(results[0][i])));
      }
      std::printf("%s vs %s, %s: rel_inf %.3g\n", isas[0].c_str(), isas[k].c_str(), what[part],
                  diff / scale);
      EXPECT_LE(diff / scale, 2e-6) << isas[0] << " vs " << isas[k] << ", " << what[part];
    }
  }
}

}  // namespace
}  // namespace gisp
