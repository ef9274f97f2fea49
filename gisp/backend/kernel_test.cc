// Every CPU kernel against the double-accumulating reference backend, on random odd shapes.
// Tolerances (docs/numerics.md): f32 kernels vs double accumulation, rel_inf <= 2e-5 unless a
// test says otherwise; the error grows like sqrt(K) * 6e-8 for a K-long f32 dot product.
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "gisp/backend/backend.h"
#include "gisp/backend/cpu/ops.h"
#include "gisp/testing/compare.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using testing::Compare;
using testing::CopyAs;
using testing::RandomInts;
using testing::RandomTensor;

constexpr double kTol = 2e-5;

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cpu_ = CreateCpuBackend().value();
    ref_ = CreateReferenceBackend();
  }
  Tensor Clone(const Tensor& t) { return CopyAs(t, t.dtype()); }
  Tensor Zeros(const Shape& s) { return Tensor::Host(s).value(); }

  std::unique_ptr<Backend> cpu_;
  std::unique_ptr<Backend> ref_;
  std::mt19937 rng_{1234};
};

#define EXPECT_CLOSE(got, want, tol)             \
  do {                                           \
    testing::Diff d_ = Compare(got, want);       \
    EXPECT_LE(d_.rel_inf, tol) << d_.ToString(); \
  } while (0)

TEST_F(KernelTest, GemmAllTransposesBatchesAndBeta) {
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
          Tensor c_cpu = Clone(c0), c_ref = Clone(c0);
          ASSERT_TRUE(cpu_->Gemm(c_cpu, a, ta, b, tb, 0.75f, beta).ok());
          ASSERT_TRUE(ref_->Gemm(c_ref, a, ta, b, tb, 0.75f, beta).ok());
          EXPECT_CLOSE(c_cpu, c_ref, kTol);
        }
      }
    }
  }
}

TEST_F(KernelTest, GemmEmptyContractionScalesOutput) {
  Tensor a = Zeros({4, 0}), b = Zeros({0, 5});
  Tensor c = RandomTensor({4, 5}, &rng_);
  Tensor want = Clone(c);
  ASSERT_TRUE(cpu_->Gemm(c, a, false, b, false, 1.0f, 1.0f).ok());
  EXPECT_CLOSE(c, want, 0.0);
  ASSERT_TRUE(cpu_->Gemm(c, a, false, b, false, 1.0f, 0.0f).ok());
  EXPECT_EQ(Compare(c, Zeros({4, 5})).max_abs, 0.0);
}

TEST_F(KernelTest, GemmRejectsMismatchedShapes) {
  Tensor a = Zeros({4, 3}), b = Zeros({5, 6}), c = Zeros({4, 6});
  absl::Status s = cpu_->Gemm(c, a, false, b, false, 1.0f, 0.0f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("[4, 3]"), std::string::npos) << s;
}

TEST_F(KernelTest, AddAxpyFill) {
  Tensor a = RandomTensor({1001}, &rng_), b = RandomTensor({1001}, &rng_);
  Tensor o1 = Zeros({1001}), o2 = Zeros({1001});
  ASSERT_TRUE(cpu_->Add(o1, a, b).ok());
  ASSERT_TRUE(ref_->Add(o2, a, b).ok());
  EXPECT_CLOSE(o1, o2, 1e-7);
  ASSERT_TRUE(cpu_->Axpy(o1, -0.3f, a).ok());
  ASSERT_TRUE(ref_->Axpy(o2, -0.3f, a).ok());
  EXPECT_CLOSE(o1, o2, 1e-7);
  ASSERT_TRUE(cpu_->Fill(o1, 2.5f).ok());
  for (int i = 0; i < 1001; ++i) ASSERT_EQ(o1.f32()[i], 2.5f);
}

TEST_F(KernelTest, EmbeddingWithRepeatedIds) {
  Tensor table = RandomTensor({23, 19}, &rng_);
  Tensor ids = RandomInts({41}, &rng_, 0, 22);
  ids.i32()[5] = ids.i32()[6] = ids.i32()[30] = 7;
  Tensor o1 = Zeros({41, 19}), o2 = Zeros({41, 19});
  ASSERT_TRUE(cpu_->EmbeddingForward(o1, table, ids).ok());
  ASSERT_TRUE(ref_->EmbeddingForward(o2, table, ids).ok());
  EXPECT_CLOSE(o1, o2, 0.0);
  Tensor g = RandomTensor({41, 19}, &rng_);
  Tensor d0 = RandomTensor({23, 19}, &rng_);
  Tensor d1 = Clone(d0), d2 = Clone(d0);
  ASSERT_TRUE(cpu_->EmbeddingBackward(d1, g, ids).ok());
  ASSERT_TRUE(ref_->EmbeddingBackward(d2, g, ids).ok());
  EXPECT_CLOSE(d1, d2, 1e-6);
  ids.i32()[3] = 23;  // out of range
  EXPECT_FALSE(cpu_->EmbeddingForward(o1, table, ids).ok());
}

TEST_F(KernelTest, RmsNormForwardBackward) {
  const int64_t n = 27, d = 101;
  Tensor x = RandomTensor({n, d}, &rng_, 3.0f), w = RandomTensor({d}, &rng_);
  Tensor y1 = Zeros({n, d}), y2 = Zeros({n, d}), r1 = Zeros({n}), r2 = Zeros({n});
  ASSERT_TRUE(cpu_->RmsNormForward(y1, r1, x, w, 1e-5f).ok());
  ASSERT_TRUE(ref_->RmsNormForward(y2, r2, x, w, 1e-5f).ok());
  EXPECT_CLOSE(y1, y2, kTol);
  EXPECT_CLOSE(r1, r2, kTol);
  Tensor dy = RandomTensor({n, d}, &rng_);
  Tensor dx0 = RandomTensor({n, d}, &rng_), dw0 = RandomTensor({d}, &rng_);
  Tensor dx1 = Clone(dx0), dx2 = Clone(dx0), dw1 = Clone(dw0), dw2 = Clone(dw0);
  ASSERT_TRUE(cpu_->RmsNormBackward(dx1, dw1, dy, x, w, r1).ok());
  ASSERT_TRUE(ref_->RmsNormBackward(dx2, dw2, dy, x, w, r2).ok());
  EXPECT_CLOSE(dx1, dx2, kTol);
  EXPECT_CLOSE(dw1, dw2, kTol);
  Tensor dx3 = Clone(dx0);
  ASSERT_TRUE(cpu_->RmsNormBackward(dx3, Tensor(), dy, x, w, r1).ok());  // skip d_weight
  EXPECT_CLOSE(dx3, dx2, kTol);
}

TEST_F(KernelTest, RopeForwardAndInverse) {
  const int64_t b = 2, t = 9, h = 3, dh = 14, p = 20;
  Tensor x = RandomTensor({b, t, h, dh}, &rng_);
  Tensor cos = RandomTensor({p, dh / 2}, &rng_), sin = RandomTensor({p, dh / 2}, &rng_);
  // Valid rotation tables: cos^2 + sin^2 = 1.
  for (int64_t i = 0; i < p * dh / 2; ++i) {
    const float angle = 3.0f * cos.f32()[i];
    cos.f32()[i] = std::cos(angle);
    sin.f32()[i] = std::sin(angle);
  }
  Tensor x1 = Clone(x), x2 = Clone(x);
  ASSERT_TRUE(cpu_->Rope(x1, cos, sin, 4, false).ok());
  ASSERT_TRUE(ref_->Rope(x2, cos, sin, 4, false).ok());
  EXPECT_CLOSE(x1, x2, 1e-6);
  ASSERT_TRUE(cpu_->Rope(x1, cos, sin, 4, true).ok());
  EXPECT_CLOSE(x1, x, 1e-6);
  EXPECT_FALSE(cpu_->Rope(x1, cos, sin, 12, false).ok());  // 12 + 9 > 20 positions
}

struct AttentionCase {
  int64_t b, tq, tk, hq, kv, dh;
  std::vector<int32_t> kv_map;
};

void RunAttentionCase(Backend* cpu, Backend* ref, const AttentionCase& c, std::mt19937* rng) {
  Tensor q = RandomTensor({c.b, c.tq, c.hq, c.dh}, rng, 1.5f);
  Tensor k = RandomTensor({c.b, c.tk, c.kv, c.dh}, rng, 1.5f);
  Tensor v = RandomTensor({c.b, c.tk, c.kv, c.dh}, rng);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.dh));
  Tensor o1 = Tensor::Host({c.b, c.tq, c.hq, c.dh}).value(), o2 = CopyAs(o1, DType::kF32);
  Tensor l1 = Tensor::Host({c.b, c.hq, c.tq}).value(), l2 = CopyAs(l1, DType::kF32);
  ASSERT_TRUE(cpu->AttentionForward(o1, l1, q, k, v, c.kv_map, scale).ok());
  ASSERT_TRUE(ref->AttentionForward(o2, l2, q, k, v, c.kv_map, scale).ok());
  EXPECT_CLOSE(o1, o2, kTol);
  EXPECT_CLOSE(l1, l2, kTol);
  Tensor dout = RandomTensor({c.b, c.tq, c.hq, c.dh}, rng);
  Tensor dq1 = RandomTensor(q.shape(), rng), dq2 = CopyAs(dq1, DType::kF32);  // overwritten
  Tensor dk1 = RandomTensor(k.shape(), rng), dk2 = CopyAs(dk1, DType::kF32);
  Tensor dv1 = RandomTensor(v.shape(), rng), dv2 = CopyAs(dv1, DType::kF32);
  ASSERT_TRUE(cpu->AttentionBackward(dq1, dk1, dv1, dout, q, k, v, o1, l1, c.kv_map, scale).ok());
  ASSERT_TRUE(ref->AttentionBackward(dq2, dk2, dv2, dout, q, k, v, o2, l2, c.kv_map, scale).ok());
  EXPECT_CLOSE(dq1, dq2, 5e-5);
  EXPECT_CLOSE(dk1, dk2, 5e-5);
  EXPECT_CLOSE(dv1, dv2, 5e-5);
}

TEST_F(KernelTest, AttentionMha) {
  RunAttentionCase(cpu_.get(), ref_.get(), {2, 13, 13, 3, 3, 10, {0, 1, 2}}, &rng_);
}

TEST_F(KernelTest, AttentionGqaDenseMap) {
  RunAttentionCase(cpu_.get(), ref_.get(), {2, 17, 17, 6, 2, 12, {0, 0, 0, 1, 1, 1}}, &rng_);
}

TEST_F(KernelTest, AttentionPrunedMapAndSingleHead) {
  // After query-head pruning a KV head may serve any number of heads, or none.
  RunAttentionCase(cpu_.get(), ref_.get(), {3, 11, 11, 4, 3, 6, {0, 0, 2, 0}}, &rng_);
  RunAttentionCase(cpu_.get(), ref_.get(), {1, 5, 5, 1, 2, 8, {1}}, &rng_);
}

TEST_F(KernelTest, AttentionQueriesAfterCachedKeys) {
  // Decoding: 3 new queries attend to 10 cached + new keys.
  RunAttentionCase(cpu_.get(), ref_.get(), {2, 3, 10, 4, 2, 8, {0, 0, 1, 1}}, &rng_);
}

TEST_F(KernelTest, AttentionChunkedScoreBlocks) {
  // Force several (batch, head) chunks so the chunk loop and the cross-chunk K/V gradient
  // accumulation are exercised.
  cpu::SetAttentionScoreBudgetForTesting(2 * 19 * 19);
  RunAttentionCase(cpu_.get(), ref_.get(), {2, 19, 19, 5, 1, 8, {0, 0, 0, 0, 0}}, &rng_);
  cpu::SetAttentionScoreBudgetForTesting(0);
}

TEST_F(KernelTest, AttentionRejectsBadMap) {
  Tensor q = Zeros({1, 4, 2, 8}), k = Zeros({1, 4, 1, 8}), o = Zeros({1, 4, 2, 8});
  Tensor l = Zeros({1, 2, 4});
  std::vector<int32_t> bad = {0, 1};
  absl::Status s = cpu_->AttentionForward(o, l, q, k, k, bad, 1.0f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kv_map"), std::string::npos);
}

TEST_F(KernelTest, SwigluIncludingExtremes) {
  Tensor g = RandomTensor({7, 131}, &rng_, 8.0f), u = RandomTensor({7, 131}, &rng_);
  g.f32()[0] = 100.0f;
  g.f32()[1] = -100.0f;
  g.f32()[2] = 0.0f;
  Tensor o1 = Zeros({7, 131}), o2 = Zeros({7, 131});
  ASSERT_TRUE(cpu_->SwigluForward(o1, g, u).ok());
  ASSERT_TRUE(ref_->SwigluForward(o2, g, u).ok());
  EXPECT_CLOSE(o1, o2, 1e-6);
  Tensor dy = RandomTensor({7, 131}, &rng_);
  Tensor dg1 = Zeros({7, 131}), du1 = Zeros({7, 131}), dg2 = Zeros({7, 131}), du2 = Zeros({7, 131});
  ASSERT_TRUE(cpu_->SwigluBackward(dg1, du1, dy, g, u).ok());
  ASSERT_TRUE(ref_->SwigluBackward(dg2, du2, dy, g, u).ok());
  EXPECT_CLOSE(dg1, dg2, 1e-6);
  EXPECT_CLOSE(du1, du2, 1e-6);
  // In place: gradients may overwrite the inputs.
  Tensor g3 = Clone(g), u3 = Clone(u);
  ASSERT_TRUE(cpu_->SwigluBackward(g3, u3, dy, g3, u3).ok());
  EXPECT_CLOSE(g3, dg2, 1e-6);
  EXPECT_CLOSE(u3, du2, 1e-6);
}

TEST_F(KernelTest, CrossEntropyWithIgnoredRowsWeightsAndAliasing) {
  const int64_t n = 13, v = 1003;
  Tensor logits = RandomTensor({n, v}, &rng_, 6.0f);
  Tensor targets = RandomInts({n}, &rng_, 0, v - 1);
  targets.i32()[2] = -1;
  targets.i32()[9] = -1;
  Tensor w = RandomTensor({n}, &rng_);
  Tensor nll1 = Zeros({n}), nll2 = Zeros({n}), d1 = Zeros({n, v}), d2 = Zeros({n, v});
  ASSERT_TRUE(cpu_->CrossEntropy(nll1, d1, logits, targets, w).ok());
  ASSERT_TRUE(ref_->CrossEntropy(nll2, d2, logits, targets, w).ok());
  EXPECT_CLOSE(nll1, nll2, 2e-6);
  EXPECT_CLOSE(d1, d2, 2e-6);
  EXPECT_EQ(nll1.f32()[2], 0.0f);
  Tensor inplace = Clone(logits);
  ASSERT_TRUE(cpu_->CrossEntropy(nll1, inplace, inplace, targets, w).ok());
  EXPECT_CLOSE(inplace, d2, 2e-6);
  ASSERT_TRUE(cpu_->CrossEntropy(nll1, Tensor(), logits, targets, w).ok());  // loss only
  EXPECT_CLOSE(nll1, nll2, 2e-6);
  targets.i32()[0] = static_cast<int32_t>(v);
  EXPECT_FALSE(cpu_->CrossEntropy(nll1, d1, logits, targets, w).ok());
}

TEST_F(KernelTest, BiasAndColumnSum) {
  Tensor y = RandomTensor({33, 17}, &rng_), bias = RandomTensor({17}, &rng_);
  Tensor y1 = Clone(y), y2 = Clone(y);
  ASSERT_TRUE(cpu_->AddBias(y1, bias).ok());
  ASSERT_TRUE(ref_->AddBias(y2, bias).ok());
  EXPECT_CLOSE(y1, y2, 1e-7);
  Tensor s1 = Clone(bias), s2 = Clone(bias);
  ASSERT_TRUE(cpu_->ColumnSum(s1, y).ok());
  ASSERT_TRUE(ref_->ColumnSum(s2, y).ok());
  EXPECT_CLOSE(s1, s2, 1e-6);
}

TEST_F(KernelTest, SaliencyReductions) {
  Tensor w = RandomTensor({29, 47}, &rng_), g = RandomTensor({29, 47}, &rng_, 1e-3f);
  Tensor r1 = Zeros({29}), r2 = Zeros({29}), c1 = Zeros({47}), c2 = Zeros({47});
  ASSERT_TRUE(cpu_->AbsProdRowSum(r1, w, g).ok());
  ASSERT_TRUE(ref_->AbsProdRowSum(r2, w, g).ok());
  ASSERT_TRUE(cpu_->AbsProdColSum(c1, w, g).ok());
  ASSERT_TRUE(ref_->AbsProdColSum(c2, w, g).ok());
  EXPECT_CLOSE(r1, r2, 1e-7);
  EXPECT_CLOSE(c1, c2, 1e-7);
}

TEST_F(KernelTest, GatherAndZero) {
  Tensor in = RandomTensor({9, 11}, &rng_);
  std::vector<int32_t> rows = {8, 0, 3};
  std::vector<int32_t> cols = {10, 2, 2, 5};
  Tensor gr1 = Zeros({3, 11}), gr2 = Zeros({3, 11}), gc1 = Zeros({9, 4}), gc2 = Zeros({9, 4});
  ASSERT_TRUE(cpu_->GatherRows(gr1, in, rows).ok());
  ASSERT_TRUE(ref_->GatherRows(gr2, in, rows).ok());
  ASSERT_TRUE(cpu_->GatherCols(gc1, in, cols).ok());
  ASSERT_TRUE(ref_->GatherCols(gc2, in, cols).ok());
  EXPECT_CLOSE(gr1, gr2, 0.0);
  EXPECT_CLOSE(gc1, gc2, 0.0);
  EXPECT_EQ(gr1.f32()[0], in.f32()[8 * 11]);
  Tensor z1 = Clone(in), z2 = Clone(in);
  ASSERT_TRUE(cpu_->ZeroRows(z1, rows).ok());
  ASSERT_TRUE(ref_->ZeroRows(z2, rows).ok());
  ASSERT_TRUE(cpu_->ZeroCols(z1, cols).ok());
  ASSERT_TRUE(ref_->ZeroCols(z2, cols).ok());
  EXPECT_CLOSE(z1, z2, 0.0);
  EXPECT_EQ(z1.f32()[3 * 11 + 1], 0.0f);
  EXPECT_EQ(z1.f32()[1 * 11 + 10], 0.0f);
  std::vector<int32_t> bad = {9};
  EXPECT_FALSE(cpu_->GatherRows(gr1, in, bad).ok());
}

TEST_F(KernelTest, CopyConvertsDtypes) {
  Tensor x = RandomTensor({1 << 17}, &rng_);
  Tensor bf = Tensor::Host({1 << 17}, DType::kBF16).value();
  ASSERT_TRUE(cpu_->Copy(bf, x).ok());
  Tensor back = Zeros({1 << 17});
  ASSERT_TRUE(cpu_->Copy(back, bf).ok());
  EXPECT_LE(Compare(back, x).rel_inf, 1.0 / 256);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(bf.data<uint16_t>()[i], F32ToBF16(x.f32()[i]));
}

TEST_F(KernelTest, ResultsAreDeterministic) {
  Tensor q = RandomTensor({2, 31, 4, 16}, &rng_), k = RandomTensor({2, 31, 2, 16}, &rng_);
  std::vector<int32_t> map = {0, 0, 1, 1};
  Tensor o1 = Zeros(q.shape()), o2 = Zeros(q.shape()), l = Zeros({2, 4, 31});
  ASSERT_TRUE(cpu_->AttentionForward(o1, l, q, k, k, map, 0.25f).ok());
  ASSERT_TRUE(cpu_->AttentionForward(o2, l, q, k, k, map, 0.25f).ok());
  EXPECT_EQ(Compare(o1, o2).max_abs, 0.0);
}

}  // namespace
}  // namespace gisp
