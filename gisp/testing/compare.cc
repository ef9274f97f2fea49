#include "gisp/testing/compare.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_format.h"

namespace gisp {
namespace testing {

std::string Diff::ToString() const {
  return absl::StrFormat("max_abs=%.3g max_want=%.3g rel_inf=%.3g nmse=%.3g finite=%d", max_abs,
                         max_want, rel_inf, nmse, finite);
}

namespace {

std::vector<double> AsDoubles(const Tensor& t) {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  ConvertElements(t.dtype(), t.raw(), DType::kF64, out.data(), out.size());
  return out;
}

}  // namespace

Diff Compare(const Tensor& got, const Tensor& want) {
  Diff d;
  if (got.numel() != want.numel()) {
    d.finite = false;
    d.rel_inf = d.nmse = INFINITY;
    return d;
  }
  const std::vector<double> g = AsDoubles(got);
  const std::vector<double> w = AsDoubles(want);
  double err2 = 0, ref2 = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (!std::isfinite(g[i])) d.finite = false;
    const double e = std::fabs(g[i] - w[i]);
    d.max_abs = std::max(d.max_abs, e);
    d.max_want = std::max(d.max_want, std::fabs(w[i]));
    err2 += e * e;
    ref2 += w[i] * w[i];
  }
  d.rel_inf = d.max_want > 0 ? d.max_abs / d.max_want : (d.max_abs > 0 ? INFINITY : 0.0);
  d.nmse = ref2 > 0 ? err2 / ref2 : (err2 > 0 ? INFINITY : 0.0);
  if (!d.finite) d.rel_inf = d.nmse = INFINITY;
  return d;
}

Tensor RandomTensor(const Shape& shape, std::mt19937* rng, float scale, DType dtype) {
  Tensor f = Tensor::Host(shape, DType::kF32).value();
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < f.numel(); ++i) f.f32()[i] = dist(*rng);
  if (dtype == DType::kF32) return f;
  return CopyAs(f, dtype);
}

Tensor RandomInts(const Shape& shape, std::mt19937* rng, int32_t lo, int32_t hi) {
  Tensor t = Tensor::Host(shape, DType::kI32).value();
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.i32()[i] = dist(*rng);
  return t;
}

Tensor CopyAs(const Tensor& t, DType dtype) {
  Tensor out = Tensor::Host(t.shape(), dtype).value();
  ConvertElements(t.dtype(), t.raw(), dtype, out.raw(), static_cast<size_t>(t.numel()));
  return out;
}

}  // namespace testing
}  // namespace gisp
