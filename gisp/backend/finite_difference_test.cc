// Finite-difference checks of every backward formula, in double: the reference backend runs on
// f64 tensors, the loss is L = <r, forward(x)> for a random r, and the analytic directional
// derivative <dL/dx, u> (from the backward verb with d_out = r) must match the central
// difference (L(x + h u) - L(x - h u)) / 2h. With h = 1e-5 the truncation error is ~1e-10 and
// the rounding error ~1e-11, so a tolerance of 1e-7 relative catches any wrong term.
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "gisp/backend/backend.h"
#include "gisp/testing/compare.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using testing::CopyAs;
using testing::RandomInts;
using testing::RandomTensor;

constexpr double kH = 1e-5;
constexpr double kTol = 1e-7;

Tensor Rand(const Shape& s, std::mt19937* rng, float scale = 1.0f) {
  return RandomTensor(s, rng, scale, DType::kF64);
}
Tensor Zeros(const Shape& s) { return Tensor::Host(s, DType::kF64).value(); }
Tensor Clone(const Tensor& t) { return CopyAs(t, t.dtype()); }

double Dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += a.data<double>()[i] * b.data<double>()[i];
  return s;
}

// Central difference of `loss` at x along u.
double Directional(const std::function<double(const Tensor&)>& loss, const Tensor& x,
                   const Tensor& u) {
  Tensor plus = Clone(x), minus = Clone(x);
  for (int64_t i = 0; i < x.numel(); ++i) {
    plus.data<double>()[i] += kH * u.data<double>()[i];
    minus.data<double>()[i] -= kH * u.data<double>()[i];
  }
  return (loss(plus) - loss(minus)) / (2 * kH);
}

void ExpectMatches(const std::function<double(const Tensor&)>& loss, const Tensor& x,
                   const Tensor& grad, std::mt19937* rng, const char* what) {
  Tensor u = Rand(x.shape(), rng);
  const double fd = Directional(loss, x, u);
  const double an = Dot(grad, u);
  EXPECT_NEAR(an, fd, kTol * std::max(1.0, std::fabs(fd))) << what;
}

class FiniteDifferenceTest : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> ref_ = CreateReferenceBackend();
  std::mt19937 rng_{99};
};

TEST_F(FiniteDifferenceTest, LinearLayerGradients) {
  // y = x W^T: dx = dy W, dW += dy^T x, as the model's linear layers use them.
  Tensor x = Rand({7, 5}, &rng_), w = Rand({4, 5}, &rng_), r = Rand({7, 4}, &rng_);
  auto forward = [&](const Tensor& xx, const Tensor& ww) {
    Tensor y = Zeros({7, 4});
    EXPECT_TRUE(ref_->Gemm(y, xx, false, ww, true, 1.0f, 0.0f).ok());
    return Dot(r, y);
  };
  Tensor dx = Zeros({7, 5}), dw = Zeros({4, 5});
  ASSERT_TRUE(ref_->Gemm(dx, r, false, w, false, 1.0f, 0.0f).ok());
  ASSERT_TRUE(ref_->Gemm(dw, r, true, x, false, 1.0f, 1.0f).ok());
  ExpectMatches([&](const Tensor& t) { return forward(t, w); }, x, dx, &rng_, "dx");
  ExpectMatches([&](const Tensor& t) { return forward(x, t); }, w, dw, &rng_, "dW");
}

TEST_F(FiniteDifferenceTest, RmsNorm) {
  const int64_t n = 5, d = 9;
  Tensor x = Rand({n, d}, &rng_, 2.0f), w = Rand({d}, &rng_), r = Rand({n, d}, &rng_);
  auto forward = [&](const Tensor& xx, const Tensor& ww) {
    Tensor y = Zeros({n, d}), inv = Zeros({n});
    EXPECT_TRUE(ref_->RmsNormForward(y, inv, xx, ww, 1e-5f).ok());
    return Dot(r, y);
  };
  Tensor y = Zeros({n, d}), inv = Zeros({n});
  ASSERT_TRUE(ref_->RmsNormForward(y, inv, x, w, 1e-5f).ok());
  Tensor dx = Zeros({n, d}), dw = Zeros({d});
  ASSERT_TRUE(ref_->RmsNormBackward(dx, dw, r, x, w, inv).ok());
  ExpectMatches([&](const Tensor& t) { return forward(t, w); }, x, dx, &rng_, "dx");
  ExpectMatches([&](const Tensor& t) { return forward(x, t); }, w, dw, &rng_, "dweight");
}

TEST_F(FiniteDifferenceTest, Rope) {
  const int64_t b = 2, t = 5, h = 3, dh = 6;
  Tensor x = Rand({b, t, h, dh}, &rng_), r = Rand({b, t, h, dh}, &rng_);
  Tensor cos = Zeros({t + 2, dh / 2}), sin = Zeros({t + 2, dh / 2});
  for (int64_t p = 0; p < t + 2; ++p) {
    for (int64_t i = 0; i < dh / 2; ++i) {
      const double angle = p * std::pow(10000.0, -2.0 * i / dh);
      cos.data<double>()[p * dh / 2 + i] = std::cos(angle);
      sin.data<double>()[p * dh / 2 + i] = std::sin(angle);
    }
  }
  auto forward = [&](const Tensor& xx) {
    Tensor y = Clone(xx);
    EXPECT_TRUE(ref_->Rope(y, cos, sin, 2, false).ok());
    return Dot(r, y);
  };
  Tensor grad = Clone(r);
  ASSERT_TRUE(ref_->Rope(grad, cos, sin, 2, true).ok());
  ExpectMatches(forward, x, grad, &rng_, "dx");
}

TEST_F(FiniteDifferenceTest, GroupedQueryAttention) {
  const int64_t b = 2, tq = 4, tk = 6, hq = 3, kv = 2, dh = 5;
  const IndexList map = ref_->UploadIndices({1, 0, 1}, kv).value();
  const float scale = 0.45f;
  Tensor q = Rand({b, tq, hq, dh}, &rng_), k = Rand({b, tk, kv, dh}, &rng_);
  Tensor v = Rand({b, tk, kv, dh}, &rng_), r = Rand({b, tq, hq, dh}, &rng_);
  auto forward = [&](const Tensor& qq, const Tensor& kk, const Tensor& vv) {
    Tensor o = Zeros({b, tq, hq, dh}), l = Zeros({b, hq, tq});
    EXPECT_TRUE(ref_->AttentionForward(o, l, qq, kk, vv, map, scale).ok());
    return Dot(r, o);
  };
  Tensor o = Zeros({b, tq, hq, dh}), l = Zeros({b, hq, tq});
  ASSERT_TRUE(ref_->AttentionForward(o, l, q, k, v, map, scale).ok());
  Tensor dq = Zeros(q.shape()), dk = Zeros(k.shape()), dv = Zeros(v.shape());
  ASSERT_TRUE(ref_->AttentionBackward(dq, dk, dv, r, q, k, v, o, l, map, scale).ok());
  ExpectMatches([&](const Tensor& t) { return forward(t, k, v); }, q, dq, &rng_, "dq");
  ExpectMatches([&](const Tensor& t) { return forward(q, t, v); }, k, dk, &rng_, "dk");
  ExpectMatches([&](const Tensor& t) { return forward(q, k, t); }, v, dv, &rng_, "dv");
}

TEST_F(FiniteDifferenceTest, Swiglu) {
  Tensor g = Rand({4, 7}, &rng_, 3.0f), u = Rand({4, 7}, &rng_), r = Rand({4, 7}, &rng_);
  auto forward = [&](const Tensor& gg, const Tensor& uu) {
    Tensor y = Zeros({4, 7});
    EXPECT_TRUE(ref_->SwigluForward(y, gg, uu).ok());
    return Dot(r, y);
  };
  Tensor dg = Zeros({4, 7}), du = Zeros({4, 7});
  ASSERT_TRUE(ref_->SwigluBackward(dg, du, r, g, u).ok());
  ExpectMatches([&](const Tensor& t) { return forward(t, u); }, g, dg, &rng_, "dgate");
  ExpectMatches([&](const Tensor& t) { return forward(g, t); }, u, du, &rng_, "dup");
}

TEST_F(FiniteDifferenceTest, WeightedCrossEntropy) {
  const int64_t n = 6, v = 11;
  Tensor logits = Rand({n, v}, &rng_, 3.0f), w = Rand({n}, &rng_);
  Tensor targets = RandomInts({n}, &rng_, 0, v - 1);
  targets.i32()[3] = -1;  // ignored
  auto loss = [&](const Tensor& z) {
    Tensor nll = Zeros({n});
    EXPECT_TRUE(ref_->CrossEntropy(nll, Tensor(), z, targets, w).ok());
    return Dot(w, nll);
  };
  Tensor nll = Zeros({n}), grad = Zeros({n, v});
  ASSERT_TRUE(ref_->CrossEntropy(nll, grad, logits, targets, w).ok());
  ExpectMatches(loss, logits, grad, &rng_, "dlogits");
}

TEST_F(FiniteDifferenceTest, EmbeddingAndBias) {
  Tensor table = Rand({8, 5}, &rng_), r = Rand({6, 5}, &rng_), bias = Rand({5}, &rng_);
  Tensor ids = RandomInts({6}, &rng_, 0, 7);
  ids.i32()[1] = ids.i32()[4];
  auto forward = [&](const Tensor& tab, const Tensor& bb) {
    Tensor y = Zeros({6, 5});
    EXPECT_TRUE(ref_->EmbeddingForward(y, tab, ids).ok());
    EXPECT_TRUE(ref_->AddBias(y, bb).ok());
    return Dot(r, y);
  };
  Tensor dtable = Zeros({8, 5}), dbias = Zeros({5});
  ASSERT_TRUE(ref_->EmbeddingBackward(dtable, r, ids).ok());
  ASSERT_TRUE(ref_->ColumnSum(dbias, r).ok());
  ExpectMatches([&](const Tensor& t) { return forward(t, bias); }, table, dtable, &rng_, "dtable");
  ExpectMatches([&](const Tensor& t) { return forward(table, t); }, bias, dbias, &rng_, "dbias");
}

}  // namespace
}  // namespace gisp
