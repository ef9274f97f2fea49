// Every kernel of every backend against the double-accumulating reference backend, on random odd
// shapes. One test body per verb, instantiated for every copy of the CPU kernels this build has
// (cpu_avx512 and cpu_avx2 in Bazel's x86-64 build, cpu_generic elsewhere: isa.h, BuiltIsas()) and
// the other backends of testing::TestBackendNames() (cuda); a backend that cannot be created here
// (a CPU without AVX-512, no CUDA build, no GPU) is skipped with the reason. Inputs are made on the
// host, uploaded to the backend under test, and its results downloaded for comparison.
//
// Tolerances (docs/numerics.md): f32 kernels vs double accumulation, rel_inf <= 2e-5 unless a
// test says otherwise; the error grows like sqrt(K) * 6e-8 for a K-long f32 dot product.
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gisp/backend/backend.h"
#include "gisp/backend/cpu/kernels.h"
#include "gisp/testing/backends.h"
#include "gisp/testing/compare.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using testing::Compare;
using testing::CopyAs;
using testing::RandomInts;
using testing::RandomTensor;

constexpr double kTol = 2e-5;

// "cpu_<isa>" for each CPU kernel copy in this build, then the non-CPU test backends.
std::vector<std::string> KernelTestBackends() {
  std::vector<std::string> names;
  for (cpu::CpuIsa isa : cpu::BuiltIsas())
    names.push_back(std::string("cpu_") + cpu::CpuIsaName(isa));
  for (const std::string& name : testing::TestBackendNames()) {
    if (name != "cpu") names.push_back(name);
  }
  return names;
}

absl::StatusOr<std::unique_ptr<Backend>> CreateKernelTestBackend(const std::string& name) {
  if (name.rfind("cpu_", 0) == 0) return CreateCpuBackendForIsa(name.substr(4));
  return testing::CreateTestBackend(name);
}

class KernelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto be = CreateKernelTestBackend(GetParam());
    if (!be.ok()) GTEST_SKIP() << GetParam() << " backend unavailable: " << be.status();
    be_ = std::move(be).value();
    ref_ = CreateReferenceBackend();
  }
  Tensor Clone(const Tensor& t) { return CopyAs(t, t.dtype()); }
  Tensor Zeros(const Shape& s) { return Tensor::Host(s).value(); }
  // Host -> backend under test, and back.
  Tensor Dev(const Tensor& host) { return testing::ToDevice(be_.get(), host); }
  Tensor Dev(const Tensor& host, DType dtype) { return testing::ToDevice(be_.get(), host, dtype); }
  Tensor Host(const Tensor& dev) { return testing::ToHost(be_.get(), dev); }
  IndexList DevIdx(const std::vector<int32_t>& v, int64_t bound) {
    return testing::Indices(be_.get(), v, bound);
  }
  IndexList RefIdx(const std::vector<int32_t>& v, int64_t bound) {
    return testing::Indices(ref_.get(), v, bound);
  }

  std::unique_ptr<Backend> be_;
  std::unique_ptr<Backend> ref_;
  std::mt19937 rng_{1234};
};

// A streamable expectation: EXPECT_CLOSE(a, b, tol) << "context";
#define EXPECT_CLOSE(got, want, tol) \
  EXPECT_LE(Compare(got, want).rel_inf, tol) << Compare(got, want).ToString()

TEST_P(KernelTest, GemmAllTransposesBatchesAndBeta) {
  for (int64_t batch : {1, 3}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (float beta : {0.0f, 1.0f, 0.5f}) {
          const int64_t m = 37, n = 29, k = 53;
          Shape sa = ta ? Shape{k, m} : Shape{m, k};
          Shape sb = tb ? Shape{n, k} : Shape{k, n};
          Shape sc{m, n};
          if (batch > 1) {
            sa.insert(sa.begin(), batch);
            sb.insert(sb.begin(), batch);
            sc.insert(sc.begin(), batch);
          }
          Tensor a = RandomTensor(sa, &rng_), b = RandomTensor(sb, &rng_);
          Tensor c0 = RandomTensor(sc, &rng_);
          Tensor c_dev = Dev(c0), c_ref = Clone(c0);
          ASSERT_TRUE(be_->Gemm(c_dev, Dev(a), ta, Dev(b), tb, 0.75f, beta).ok());
          ASSERT_TRUE(ref_->Gemm(c_ref, a, ta, b, tb, 0.75f, beta).ok());
          EXPECT_CLOSE(Host(c_dev), c_ref, kTol);
        }
      }
    }
  }
}

TEST_P(KernelTest, GemmWithStorageDtypeWeights) {
  // Weights kept in bf16 / f16 (CUDA): both operands are first rounded to the storage dtype, so
  // the products are exact in f32 and the only error left is f32 accumulation.
  for (DType storage : {DType::kBF16, DType::kF16}) {
    if (!be_->SupportsStorageDType(storage)) continue;
    const int64_t m = 33, n = 65, k = 130;
    Tensor a = CopyAs(CopyAs(RandomTensor({m, k}, &rng_), storage), DType::kF32);
    Tensor w = CopyAs(CopyAs(RandomTensor({n, k}, &rng_), storage), DType::kF32);
    Tensor c0 = RandomTensor({m, n}, &rng_);
    Tensor c_dev = Dev(c0), c_ref = Clone(c0);
    ASSERT_TRUE(be_->Gemm(c_dev, Dev(a), false, Dev(w, storage), true, 1.0f, 1.0f).ok());
    ASSERT_TRUE(ref_->Gemm(c_ref, a, false, w, true, 1.0f, 1.0f).ok());
    EXPECT_CLOSE(Host(c_dev), c_ref, kTol) << DTypeName(storage);
  }
  if (!be_->SupportsStorageDType(DType::kBF16)) {
    // The shared check refuses what the backend cannot take, naming the dtype.
    Tensor c = Dev(Zeros({2, 3}));
    absl::Status s =
        be_->Gemm(c, Dev(Zeros({2, 4})), false, Dev(Zeros({3, 4}), DType::kBF16), true, 1.0f, 0.0f);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("bf16"), std::string::npos) << s;
  }
}

TEST_P(KernelTest, GemmEmptyContractionScalesOutput) {
  Tensor c = RandomTensor({4, 5}, &rng_);
  Tensor c_dev = Dev(c);
  ASSERT_TRUE(
      be_->Gemm(c_dev, Dev(Zeros({4, 0})), false, Dev(Zeros({0, 5})), false, 1.0f, 1.0f).ok());
  EXPECT_CLOSE(Host(c_dev), c, 0.0);
  ASSERT_TRUE(
      be_->Gemm(c_dev, Dev(Zeros({4, 0})), false, Dev(Zeros({0, 5})), false, 1.0f, 0.0f).ok());
  EXPECT_EQ(Compare(Host(c_dev), Zeros({4, 5})).max_abs, 0.0);
}

TEST_P(KernelTest, GemmRejectsMismatchedShapes) {
  Tensor a = Dev(Zeros({4, 3})), b = Dev(Zeros({5, 6})), c = Dev(Zeros({4, 6}));
  absl::Status s = be_->Gemm(c, a, false, b, false, 1.0f, 0.0f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("[4, 3]"), std::string::npos) << s;
}

TEST_P(KernelTest, AddAxpyFill) {
  Tensor a = RandomTensor({1001}, &rng_), b = RandomTensor({1001}, &rng_);
  Tensor o1 = Dev(Zeros({1001})), o2 = Zeros({1001});
  const Tensor da = Dev(a), db = Dev(b);
  ASSERT_TRUE(be_->Add(o1, da, db).ok());
  ASSERT_TRUE(ref_->Add(o2, a, b).ok());
  EXPECT_CLOSE(Host(o1), o2, 1e-7);
  ASSERT_TRUE(be_->Axpy(o1, -0.3f, da).ok());
  ASSERT_TRUE(ref_->Axpy(o2, -0.3f, a).ok());
  EXPECT_CLOSE(Host(o1), o2, 1e-7);
  ASSERT_TRUE(be_->Fill(o1, 2.5f).ok());
  const Tensor filled = Host(o1);
  for (int i = 0; i < 1001; ++i) ASSERT_EQ(filled.f32()[i], 2.5f);
}

TEST_P(KernelTest, AllocateZeroedIsZeroInEveryDtype) {
  for (DType dtype : {DType::kF32, DType::kI32, DType::kF64, DType::kBF16}) {
    Tensor t = be_->AllocateZeroed({3, 7}, dtype).value();
    const Tensor h = Host(t);
    const auto* bytes = static_cast<const unsigned char*>(h.raw());
    for (size_t i = 0; i < h.bytes(); ++i) ASSERT_EQ(bytes[i], 0) << DTypeName(dtype);
  }
}

TEST_P(KernelTest, MemoryQueryIsPlausible) {
  MemoryInfo m = be_->QueryMemory().value();
  EXPECT_GT(m.total_bytes, 0);
  EXPECT_GE(m.free_bytes, 0);
  EXPECT_LE(m.free_bytes, m.total_bytes);
}

TEST_P(KernelTest, EmbeddingWithRepeatedIds) {
  Tensor table = RandomTensor({23, 19}, &rng_);
  Tensor ids = RandomInts({41}, &rng_, 0, 22);
  ids.i32()[5] = ids.i32()[6] = ids.i32()[30] = 7;
  const Tensor dids = Dev(ids);
  Tensor o1 = Dev(Zeros({41, 19})), o2 = Zeros({41, 19});
  ASSERT_TRUE(be_->EmbeddingForward(o1, Dev(table), dids).ok());
  ASSERT_TRUE(ref_->EmbeddingForward(o2, table, ids).ok());
  EXPECT_CLOSE(Host(o1), o2, 0.0);
  if (be_->SupportsStorageDType(DType::kBF16)) {
    Tensor o3 = Dev(Zeros({41, 19}));
    ASSERT_TRUE(be_->EmbeddingForward(o3, Dev(table, DType::kBF16), dids).ok());
    EXPECT_CLOSE(Host(o3), CopyAs(CopyAs(o2, DType::kBF16), DType::kF32), 0.0);
  }
  Tensor g = RandomTensor({41, 19}, &rng_);
  Tensor d0 = RandomTensor({23, 19}, &rng_);
  Tensor d1 = Dev(d0), d2 = Clone(d0);
  ASSERT_TRUE(be_->EmbeddingBackward(d1, Dev(g), dids).ok());
  ASSERT_TRUE(ref_->EmbeddingBackward(d2, g, ids).ok());
  EXPECT_CLOSE(Host(d1), d2, 1e-6);
}

TEST_P(KernelTest, RmsNormForwardBackward) {
  const int64_t n = 27, d = 101;
  Tensor x = RandomTensor({n, d}, &rng_, 3.0f), w = RandomTensor({d}, &rng_);
  Tensor y1 = Dev(Zeros({n, d})), y2 = Zeros({n, d}), r1 = Dev(Zeros({n})), r2 = Zeros({n});
  const Tensor dx_in = Dev(x), dw_in = Dev(w);
  ASSERT_TRUE(be_->RmsNormForward(y1, r1, dx_in, dw_in, 1e-5f).ok());
  ASSERT_TRUE(ref_->RmsNormForward(y2, r2, x, w, 1e-5f).ok());
  EXPECT_CLOSE(Host(y1), y2, kTol);
  EXPECT_CLOSE(Host(r1), r2, kTol);
  Tensor dy = RandomTensor({n, d}, &rng_);
  Tensor dx0 = RandomTensor({n, d}, &rng_), dw0 = RandomTensor({d}, &rng_);
  Tensor dx1 = Dev(dx0), dx2 = Clone(dx0), dw1 = Dev(dw0), dw2 = Clone(dw0);
  const Tensor ddy = Dev(dy);
  ASSERT_TRUE(be_->RmsNormBackward(dx1, dw1, ddy, dx_in, dw_in, r1).ok());
  ASSERT_TRUE(ref_->RmsNormBackward(dx2, dw2, dy, x, w, r2).ok());
  EXPECT_CLOSE(Host(dx1), dx2, kTol);
  EXPECT_CLOSE(Host(dw1), dw2, kTol);
  Tensor dx3 = Dev(dx0);
  ASSERT_TRUE(be_->RmsNormBackward(dx3, Tensor(), ddy, dx_in, dw_in, r1).ok());  // no d_weight
  EXPECT_CLOSE(Host(dx3), dx2, kTol);
  // The shared check covers d_weight's shape on every backend.
  Tensor bad = Dev(Zeros({d + 1}));
  EXPECT_FALSE(be_->RmsNormBackward(dx3, bad, ddy, dx_in, dw_in, r1).ok());
  EXPECT_FALSE(ref_->RmsNormBackward(dx2, Zeros({d + 1}), dy, x, w, r2).ok());
}

TEST_P(KernelTest, RopeForwardAndInverse) {
  const int64_t b = 2, t = 9, h = 3, dh = 14, p = 20;
  Tensor x = RandomTensor({b, t, h, dh}, &rng_);
  Tensor cos = RandomTensor({p, dh / 2}, &rng_), sin = RandomTensor({p, dh / 2}, &rng_);
  // Valid rotation tables: cos^2 + sin^2 = 1.
  for (int64_t i = 0; i < p * dh / 2; ++i) {
    const float angle = 3.0f * cos.f32()[i];
    cos.f32()[i] = std::cos(angle);
    sin.f32()[i] = std::sin(angle);
  }
  const Tensor dcos = Dev(cos), dsin = Dev(sin);
  Tensor x1 = Dev(x), x2 = Clone(x);
  ASSERT_TRUE(be_->Rope(x1, dcos, dsin, 4, false).ok());
  ASSERT_TRUE(ref_->Rope(x2, cos, sin, 4, false).ok());
  EXPECT_CLOSE(Host(x1), x2, 1e-6);
  ASSERT_TRUE(be_->Rope(x1, dcos, dsin, 4, true).ok());
  EXPECT_CLOSE(Host(x1), x, 1e-6);
  EXPECT_FALSE(be_->Rope(x1, dcos, dsin, 12, false).ok());  // 12 + 9 > 20 positions
}

struct AttentionCase {
  int64_t b, tq, tk, hq, kv, dh;
  std::vector<int32_t> kv_map;
};

void RunAttentionCase(Backend* be, Backend* ref, const AttentionCase& c, std::mt19937* rng) {
  Tensor q = RandomTensor({c.b, c.tq, c.hq, c.dh}, rng, 1.5f);
  Tensor k = RandomTensor({c.b, c.tk, c.kv, c.dh}, rng, 1.5f);
  Tensor v = RandomTensor({c.b, c.tk, c.kv, c.dh}, rng);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.dh));
  const IndexList map_dev = testing::Indices(be, c.kv_map, c.kv);
  const IndexList map_ref = testing::Indices(ref, c.kv_map, c.kv);
  const Tensor dq_in = testing::ToDevice(be, q), dk_in = testing::ToDevice(be, k);
  const Tensor dv_in = testing::ToDevice(be, v);
  Tensor o1 = be->Allocate({c.b, c.tq, c.hq, c.dh}).value();
  Tensor l1 = be->Allocate({c.b, c.hq, c.tq}).value();
  Tensor o2 = Tensor::Host({c.b, c.tq, c.hq, c.dh}).value(), l2 = Tensor::Host(l1.shape()).value();
  ASSERT_TRUE(be->AttentionForward(o1, l1, dq_in, dk_in, dv_in, map_dev, scale).ok());
  ASSERT_TRUE(ref->AttentionForward(o2, l2, q, k, v, map_ref, scale).ok());
  EXPECT_CLOSE(testing::ToHost(be, o1), o2, kTol);
  EXPECT_CLOSE(testing::ToHost(be, l1), l2, kTol);
  Tensor dout = RandomTensor({c.b, c.tq, c.hq, c.dh}, rng);
  // Gradients are overwritten: start them from garbage.
  Tensor dq1 = testing::ToDevice(be, RandomTensor(q.shape(), rng));
  Tensor dk1 = testing::ToDevice(be, RandomTensor(k.shape(), rng));
  Tensor dv1 = testing::ToDevice(be, RandomTensor(v.shape(), rng));
  Tensor dq2 = RandomTensor(q.shape(), rng), dk2 = RandomTensor(k.shape(), rng);
  Tensor dv2 = RandomTensor(v.shape(), rng);
  ASSERT_TRUE(be->AttentionBackward(dq1, dk1, dv1, testing::ToDevice(be, dout), dq_in, dk_in, dv_in,
                                    o1, l1, map_dev, scale)
                  .ok());
  ASSERT_TRUE(ref->AttentionBackward(dq2, dk2, dv2, dout, q, k, v, o2, l2, map_ref, scale).ok());
  EXPECT_CLOSE(testing::ToHost(be, dq1), dq2, 5e-5);
  EXPECT_CLOSE(testing::ToHost(be, dk1), dk2, 5e-5);
  EXPECT_CLOSE(testing::ToHost(be, dv1), dv2, 5e-5);
}

TEST_P(KernelTest, AttentionMha) {
  RunAttentionCase(be_.get(), ref_.get(), {2, 13, 13, 3, 3, 10, {0, 1, 2}}, &rng_);
}

TEST_P(KernelTest, AttentionGqaDenseMap) {
  RunAttentionCase(be_.get(), ref_.get(), {2, 17, 17, 6, 2, 12, {0, 0, 0, 1, 1, 1}}, &rng_);
}

TEST_P(KernelTest, AttentionPrunedMapAndSingleHead) {
  // After query-head pruning a KV head may serve any number of heads, or none.
  RunAttentionCase(be_.get(), ref_.get(), {3, 11, 11, 4, 3, 6, {0, 0, 2, 0}}, &rng_);
  RunAttentionCase(be_.get(), ref_.get(), {1, 5, 5, 1, 2, 8, {1}}, &rng_);
}

TEST_P(KernelTest, AttentionQueriesAfterCachedKeys) {
  // Decoding: 3 new queries attend to 10 cached + new keys.
  RunAttentionCase(be_.get(), ref_.get(), {2, 3, 10, 4, 2, 8, {0, 0, 1, 1}}, &rng_);
}

TEST_P(KernelTest, AttentionLongerThanOneTileAtRealHeadDim) {
  // Sequences spanning several tiles of a tiled (flash-style) kernel, at a real head size.
  RunAttentionCase(be_.get(), ref_.get(), {1, 150, 150, 4, 2, 128, {0, 0, 1, 1}}, &rng_);
}

TEST_P(KernelTest, AttentionChunkedScoreBlocks) {
  // CPU: force several (batch, head) chunks so the chunk loop and the cross-chunk K/V gradient
  // accumulation are exercised. Other backends run the same case unchanged.
  cpu::SetAttentionScoreBudgetForTesting(2 * 19 * 19);
  RunAttentionCase(be_.get(), ref_.get(), {2, 19, 19, 5, 1, 8, {0, 0, 0, 0, 0}}, &rng_);
  cpu::SetAttentionScoreBudgetForTesting(0);
}

TEST_P(KernelTest, AttentionRejectsBadMap) {
  Tensor q = Dev(Zeros({1, 4, 2, 8})), k = Dev(Zeros({1, 4, 1, 8})), o = Dev(Zeros({1, 4, 2, 8}));
  Tensor l = Dev(Zeros({1, 2, 4}));
  // A map built for 2 KV heads given keys with 1.
  absl::Status s = be_->AttentionForward(o, l, q, k, k, DevIdx({0, 1}, 2), 1.0f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kv_map"), std::string::npos) << s;
  // An entry outside its declared bound never reaches the device.
  EXPECT_FALSE(be_->UploadIndices(std::vector<int32_t>{0, 1}, 1).ok());
}

TEST_P(KernelTest, SwigluIncludingExtremes) {
  Tensor g = RandomTensor({7, 131}, &rng_, 8.0f), u = RandomTensor({7, 131}, &rng_);
  g.f32()[0] = 100.0f;
  g.f32()[1] = -100.0f;
  g.f32()[2] = 0.0f;
  const Tensor dg_in = Dev(g), du_in = Dev(u);
  Tensor o1 = Dev(Zeros({7, 131})), o2 = Zeros({7, 131});
  ASSERT_TRUE(be_->SwigluForward(o1, dg_in, du_in).ok());
  ASSERT_TRUE(ref_->SwigluForward(o2, g, u).ok());
  EXPECT_CLOSE(Host(o1), o2, 1e-6);
  Tensor dy = RandomTensor({7, 131}, &rng_);
  const Tensor ddy = Dev(dy);
  Tensor dg1 = Dev(Zeros({7, 131})), du1 = Dev(Zeros({7, 131}));
  Tensor dg2 = Zeros({7, 131}), du2 = Zeros({7, 131});
  ASSERT_TRUE(be_->SwigluBackward(dg1, du1, ddy, dg_in, du_in).ok());
  ASSERT_TRUE(ref_->SwigluBackward(dg2, du2, dy, g, u).ok());
  EXPECT_CLOSE(Host(dg1), dg2, 1e-6);
  EXPECT_CLOSE(Host(du1), du2, 1e-6);
  // In place: gradients may overwrite the inputs.
  Tensor g3 = Dev(g), u3 = Dev(u);
  ASSERT_TRUE(be_->SwigluBackward(g3, u3, ddy, g3, u3).ok());
  EXPECT_CLOSE(Host(g3), dg2, 1e-6);
  EXPECT_CLOSE(Host(u3), du2, 1e-6);
}

TEST_P(KernelTest, CrossEntropyWithIgnoredRowsWeightsAndAliasing) {
  const int64_t n = 13, v = 1003;
  Tensor logits = RandomTensor({n, v}, &rng_, 6.0f);
  Tensor targets = RandomInts({n}, &rng_, 0, v - 1);
  targets.i32()[2] = -1;
  targets.i32()[9] = -1;
  Tensor w = RandomTensor({n}, &rng_);
  const Tensor dlogits_in = Dev(logits), dtargets = Dev(targets), dw = Dev(w);
  Tensor nll1 = Dev(Zeros({n})), d1 = Dev(Zeros({n, v}));
  Tensor nll2 = Zeros({n}), d2 = Zeros({n, v});
  ASSERT_TRUE(be_->CrossEntropy(nll1, d1, dlogits_in, dtargets, dw).ok());
  ASSERT_TRUE(ref_->CrossEntropy(nll2, d2, logits, targets, w).ok());
  EXPECT_CLOSE(Host(nll1), nll2, 2e-6);
  EXPECT_CLOSE(Host(d1), d2, 2e-6);
  EXPECT_EQ(Host(nll1).f32()[2], 0.0f);
  Tensor inplace = Dev(logits);
  ASSERT_TRUE(be_->CrossEntropy(nll1, inplace, inplace, dtargets, dw).ok());
  EXPECT_CLOSE(Host(inplace), d2, 2e-6);
  ASSERT_TRUE(be_->CrossEntropy(nll1, Tensor(), dlogits_in, dtargets, dw).ok());  // loss only
  EXPECT_CLOSE(Host(nll1), nll2, 2e-6);
}

TEST_P(KernelTest, BiasAndColumnSum) {
  Tensor y = RandomTensor({33, 17}, &rng_), bias = RandomTensor({17}, &rng_);
  Tensor y1 = Dev(y), y2 = Clone(y);
  ASSERT_TRUE(be_->AddBias(y1, Dev(bias)).ok());
  ASSERT_TRUE(ref_->AddBias(y2, bias).ok());
  EXPECT_CLOSE(Host(y1), y2, 1e-7);
  Tensor s1 = Dev(bias), s2 = Clone(bias);
  ASSERT_TRUE(be_->ColumnSum(s1, Dev(y)).ok());
  ASSERT_TRUE(ref_->ColumnSum(s2, y).ok());
  EXPECT_CLOSE(Host(s1), s2, 1e-6);
}

TEST_P(KernelTest, SaliencyReductionsInDouble) {
  for (DType storage : {DType::kF32, DType::kBF16}) {
    if (!be_->SupportsStorageDType(storage)) continue;
    // Reference on the weights as stored (bf16-rounded where they are kept in bf16).
    Tensor w = CopyAs(CopyAs(RandomTensor({29, 47}, &rng_), storage), DType::kF32);
    Tensor g = RandomTensor({29, 47}, &rng_, 1e-3f);
    const Tensor dwt = Dev(w, storage), dg = Dev(g);
    // Both reductions into slices of one f64 buffer, as unit scoring does.
    Tensor sums = be_->Allocate({29 + 47}, DType::kF64).value();
    Tensor r2 = Tensor::Host({29}, DType::kF64).value(),
           c2 = Tensor::Host({47}, DType::kF64).value();
    ASSERT_TRUE(be_->AbsProdRowSum(sums.View(0, {29}), dwt, dg).ok());
    ASSERT_TRUE(be_->AbsProdColSum(sums.View(29, {47}), dwt, dg).ok());
    ASSERT_TRUE(ref_->AbsProdRowSum(r2, w, g).ok());
    ASSERT_TRUE(ref_->AbsProdColSum(c2, w, g).ok());
    const Tensor got = Host(sums);
    // Double accumulation of the same products: equal to ~1e-15 whatever the order.
    EXPECT_CLOSE(got.View(0, {29}), r2, 1e-13) << DTypeName(storage);
    EXPECT_CLOSE(got.View(29, {47}), c2, 1e-13) << DTypeName(storage);
  }
  // The output must be f64.
  EXPECT_FALSE(be_->AbsProdRowSum(Dev(Zeros({2})), Dev(Zeros({2, 3})), Dev(Zeros({2, 3}))).ok());
}

TEST_P(KernelTest, GatherAndZero) {
  for (DType dtype : {DType::kF32, DType::kBF16}) {
    if (!be_->SupportsStorageDType(dtype)) continue;
    Tensor in = CopyAs(RandomTensor({9, 11}, &rng_), dtype);
    const std::vector<int32_t> rows = {8, 0, 3};
    const std::vector<int32_t> cols = {10, 2, 2, 5};
    const IndexList dr = DevIdx(rows, 9), dc = DevIdx(cols, 11);
    const IndexList rr = RefIdx(rows, 9), rc = RefIdx(cols, 11);
    const Tensor din = Dev(in);
    Tensor gr1 = be_->Allocate({3, 11}, dtype).value(), gc1 = be_->Allocate({9, 4}, dtype).value();
    Tensor gr2 = Tensor::Host({3, 11}, dtype).value(), gc2 = Tensor::Host({9, 4}, dtype).value();
    ASSERT_TRUE(be_->GatherRows(gr1, din, dr).ok());
    ASSERT_TRUE(be_->GatherCols(gc1, din, dc).ok());
    if (dtype == DType::kF32) {  // the reference computes in f32/f64 only
      ASSERT_TRUE(ref_->GatherRows(gr2, in, rr).ok());
      ASSERT_TRUE(ref_->GatherCols(gc2, in, rc).ok());
      EXPECT_CLOSE(Host(gr1), gr2, 0.0);
      EXPECT_CLOSE(Host(gc1), gc2, 0.0);
    }
    const Tensor in_f = CopyAs(in, DType::kF32), gr_f = CopyAs(Host(gr1), DType::kF32);
    const Tensor gc_f = CopyAs(Host(gc1), DType::kF32);
    EXPECT_EQ(gr_f.f32()[0], in_f.f32()[8 * 11]);
    EXPECT_EQ(gc_f.f32()[1 * 4 + 0], in_f.f32()[1 * 11 + 10]);
    Tensor z1 = Dev(in);
    ASSERT_TRUE(be_->ZeroRows(z1, dr).ok());
    ASSERT_TRUE(be_->ZeroCols(z1, dc).ok());
    const Tensor z = CopyAs(Host(z1), DType::kF32);
    for (int64_t i = 0; i < 9; ++i) {
      for (int64_t j = 0; j < 11; ++j) {
        const bool zeroed = i == 8 || i == 0 || i == 3 || j == 10 || j == 2 || j == 5;
        EXPECT_EQ(z.f32()[i * 11 + j], zeroed ? 0.0f : in_f.f32()[i * 11 + j]) << i << "," << j;
      }
    }
    // A list built for a larger extent is refused by the shared check.
    EXPECT_FALSE(be_->GatherRows(gr1, din, DevIdx({9}, 10)).ok());
  }
}

TEST_P(KernelTest, TransfersConvertDtypes) {
  Tensor x = RandomTensor({1 << 17}, &rng_);
  Tensor bf = be_->Allocate({1 << 17}, DType::kBF16).value();
  ASSERT_TRUE(be_->Upload(bf, x).ok());
  Tensor f = be_->Allocate({1 << 17}).value();
  ASSERT_TRUE(be_->Copy(f, bf).ok());
  Tensor back = Zeros({1 << 17});
  ASSERT_TRUE(be_->Download(back, f).ok());
  EXPECT_LE(Compare(back, x).rel_inf, 1.0 / 256);
  const Tensor bf_host = Host(bf);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(bf_host.data<uint16_t>()[i], F32ToBF16(x.f32()[i]));
  Tensor ids = RandomInts({77}, &rng_, -5, 5000);
  Tensor ids_back = Tensor::Host({77}, DType::kI32).value();
  ASSERT_TRUE(be_->Download(ids_back, Dev(ids)).ok());
  for (int i = 0; i < 77; ++i) EXPECT_EQ(ids_back.i32()[i], ids.i32()[i]);
  // Direction is part of the contract: a host tensor is not an upload target.
  if (be_->device() != Device::Cpu()) {
    EXPECT_FALSE(be_->Upload(back, x).ok());
  }
  EXPECT_FALSE(be_->Download(back, Dev(ids)).ok());  // i32 into f32
}

TEST_P(KernelTest, ResultsAreDeterministic) {
  Tensor q = Dev(RandomTensor({2, 31, 4, 16}, &rng_)), k = Dev(RandomTensor({2, 31, 2, 16}, &rng_));
  const IndexList map = DevIdx({0, 0, 1, 1}, 2);
  Tensor o1 = Dev(Zeros(q.shape())), o2 = Dev(Zeros(q.shape())), l = Dev(Zeros({2, 4, 31}));
  ASSERT_TRUE(be_->AttentionForward(o1, l, q, k, k, map, 0.25f).ok());
  ASSERT_TRUE(be_->AttentionForward(o2, l, q, k, k, map, 0.25f).ok());
  EXPECT_EQ(Compare(Host(o1), Host(o2)).max_abs, 0.0);
  Tensor dk1 = Dev(Zeros(k.shape())), dk2 = Dev(Zeros(k.shape()));
  Tensor dq = Dev(Zeros(q.shape())), dv = Dev(Zeros(k.shape()));
  ASSERT_TRUE(be_->AttentionBackward(dq, dk1, dv, o1, q, k, k, o1, l, map, 0.25f).ok());
  ASSERT_TRUE(be_->AttentionBackward(dq, dk2, dv, o1, q, k, k, o1, l, map, 0.25f).ok());
  EXPECT_EQ(Compare(Host(dk1), Host(dk2)).max_abs, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Backends, KernelTest, ::testing::ValuesIn(KernelTestBackends()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace gisp
