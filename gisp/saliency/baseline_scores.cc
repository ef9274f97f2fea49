#include "gisp/saliency/baseline_scores.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gisp/base/random.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Per-row (rows) or per-column sums of f(w) over a host matrix [R, C] of any float dtype.
template <typename F>
std::vector<double> Reduce(const Tensor& m, bool rows, F f) {
  const int64_t r = m.dim(0), c = m.dim(1);
  std::vector<double> out(static_cast<size_t>(rows ? r : c), 0.0);
  std::vector<double> row(static_cast<size_t>(c));
  const size_t es = DTypeSize(m.dtype());
  for (int64_t i = 0; i < r; ++i) {
    ConvertElements(m.dtype(), static_cast<const char*>(m.raw()) + i * c * es, DType::kF64,
                    row.data(), static_cast<size_t>(c));
    for (int64_t j = 0; j < c; ++j) {
      out[static_cast<size_t>(rows ? i : j)] += f(row[static_cast<size_t>(j)]);
    }
  }
  return out;
}

double Square(double w) { return w * w; }
double Abs(double w) { return std::fabs(w); }

// Sums consecutive blocks of `width` entries (per-head totals from per-row totals).
std::vector<double> Blocks(const std::vector<double>& v, int64_t width) {
  std::vector<double> out(v.size() / static_cast<size_t>(width), 0.0);
  for (size_t i = 0; i < v.size(); ++i) out[i / static_cast<size_t>(width)] += v[i];
  return out;
}

// Head-unit totals from per-query-head and per-KV-head totals, per the unit kind.
double HeadUnitTotal(const UnitSpace& space, int64_t u, const std::vector<double>& q_head,
                     const std::vector<double>& kv_head) {
  switch (space.kind) {
    case HeadUnitKind::kMha:
      return q_head[u] + kv_head[u];
    case HeadUnitKind::kQueryHead:
      return q_head[u];
    case HeadUnitKind::kKvGroup: {
      double s = kv_head[u];
      for (int64_t g = 0; g < space.group; ++g) s += q_head[u * space.group + g];
      return s;
    }
  }
  return 0.0;
}

void ProtectedInfinity(const UnitSpace& space, int64_t l, std::vector<double>* scores) {
  for (int64_t u = l * space.per_layer(); u < (l + 1) * space.per_layer(); ++u) {
    (*scores)[static_cast<size_t>(u)] = kInf;
  }
}

// (v - mean(v)) / std(v) in place, std with divisor n - 1 (torch.std's default, which the
// authors' FLAP code uses). Equal values (std 0) or fewer than two give 0: no column of the
// module stands out, and 0 keeps the scores finite.
void Standardize(std::vector<double>* v) {
  const size_t n = v->size();
  double mean = 0;
  for (double x : *v) mean += x;
  mean /= static_cast<double>(std::max<size_t>(n, 1));
  double ss = 0;
  for (double x : *v) ss += (x - mean) * (x - mean);
  const double sd = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0;
  for (double& x : *v) x = sd > 0 ? (x - mean) / sd : 0.0;
}

}  // namespace

std::vector<double> MagnitudeScores(const UnitSpace& space, const LlamaModel& model) {
  std::vector<double> scores(static_cast<size_t>(space.size()), 0.0);
  const int64_t dh = model.source_config().head_dim;
  for (int64_t l = 0; l < space.num_layers; ++l) {
    if (space.protected_layer[l]) {
      ProtectedInfinity(space, l, &scores);
      continue;
    }
    const LayerWeights& w = model.host_weights().layers[static_cast<size_t>(l)];
    std::vector<double> q_head = Blocks(Reduce(w.q_proj, true, Square), dh);
    const std::vector<double> o_head = Blocks(Reduce(w.o_proj, false, Square), dh);
    for (size_t h = 0; h < q_head.size(); ++h) q_head[h] += o_head[h];
    std::vector<double> kv_head;
    if (space.kind != HeadUnitKind::kQueryHead) {
      kv_head = Blocks(Reduce(w.k_proj, true, Square), dh);
      const std::vector<double> v_head = Blocks(Reduce(w.v_proj, true, Square), dh);
      for (size_t h = 0; h < kv_head.size(); ++h) kv_head[h] += v_head[h];
    }
    for (int64_t u = 0; u < space.heads; ++u) {
      scores[space.HeadUnit(l, u)] = std::sqrt(HeadUnitTotal(space, u, q_head, kv_head));
    }
    const std::vector<double> gate = Reduce(w.gate_proj, true, Square);
    const std::vector<double> up = Reduce(w.up_proj, true, Square);
    const std::vector<double> down = Reduce(w.down_proj, false, Square);
    for (int64_t c = 0; c < space.channels; ++c) {
      scores[space.ChannelUnit(l, c)] = std::sqrt(gate[c] + up[c] + down[c]);
    }
  }
  return scores;
}

absl::StatusOr<std::vector<double>> WandaSpScores(const UnitSpace& space, const LlamaModel& model,
                                                  const ActivationStats& stats) {
  std::vector<double> scores(static_cast<size_t>(space.size()), 0.0);
  const int64_t dh = model.source_config().head_dim;
  for (int64_t l = 0; l < space.num_layers; ++l) {
    if (space.protected_layer[l]) {
      ProtectedInfinity(space, l, &scores);
      continue;
    }
    const LayerWeights& w = model.host_weights().layers[static_cast<size_t>(l)];
    const ColumnMoments& xo = stats.o_proj[static_cast<size_t>(l)];
    const ColumnMoments& xd = stats.down_proj[static_cast<size_t>(l)];
    std::vector<double> o_cols = Reduce(w.o_proj, false, Abs);
    std::vector<double> d_cols = Reduce(w.down_proj, false, Abs);
    if (xo.sumsq.size() != o_cols.size() || xd.sumsq.size() != d_cols.size()) {
      return absl::InternalError(absl::StrCat(
          "wanda-sp: layer ", l, " has statistics for ", xo.sumsq.size(), " + ", xd.sumsq.size(),
          " columns, its weights have ", o_cols.size(), " + ", d_cols.size()));
    }
    for (size_t j = 0; j < o_cols.size(); ++j) o_cols[j] *= xo.Norm(j);
    for (size_t j = 0; j < d_cols.size(); ++j) d_cols[j] *= xd.Norm(j);
    const std::vector<double> q_head = Blocks(o_cols, dh);
    const std::vector<double> kv_head(static_cast<size_t>(model.source_config().num_kv_heads), 0.0);
    for (int64_t u = 0; u < space.heads; ++u) {
      scores[space.HeadUnit(l, u)] = HeadUnitTotal(space, u, q_head, kv_head);
    }
    for (int64_t c = 0; c < space.channels; ++c) scores[space.ChannelUnit(l, c)] = d_cols[c];
  }
  return scores;
}

absl::StatusOr<std::vector<double>> FlapScores(const UnitSpace& space, const LlamaModel& model,
                                               const ActivationStats& stats) {
  std::vector<double> scores(static_cast<size_t>(space.size()), 0.0);
  const int64_t dh = model.source_config().head_dim;
  for (int64_t l = 0; l < space.num_layers; ++l) {
    if (space.protected_layer[l]) {
      ProtectedInfinity(space, l, &scores);
      continue;
    }
    const LayerWeights& w = model.host_weights().layers[static_cast<size_t>(l)];
    const ColumnMoments& xo = stats.o_proj[static_cast<size_t>(l)];
    const ColumnMoments& xd = stats.down_proj[static_cast<size_t>(l)];
    if (xo.tokens < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "flap: the calibration data has ", xo.tokens,
          " counted tokens; the fluctuation metric (a sample variance) needs at least 2"));
    }
    std::vector<double> o_cols = Reduce(w.o_proj, false, Square);     // [H * Dh]: ||W_:,j||^2
    std::vector<double> d_cols = Reduce(w.down_proj, false, Square);  // [F]
    if (xo.sumsq.size() != o_cols.size() || xd.sumsq.size() != d_cols.size()) {
      return absl::InternalError(absl::StrCat(
          "flap: layer ", l, " has statistics for ", xo.sumsq.size(), " + ", xd.sumsq.size(),
          " columns, its weights have ", o_cols.size(), " + ", d_cols.size()));
    }
    for (size_t j = 0; j < o_cols.size(); ++j) {
      // The authors' code squares the attention metric (not the MLP one) before standardizing;
      // after standardization that changes which heads look unusual, so it is kept.
      const double m = xo.Variance(j) * o_cols[j];
      o_cols[j] = m * m;
    }
    for (size_t j = 0; j < d_cols.size(); ++j) d_cols[j] *= xd.Variance(j);
    Standardize(&o_cols);
    Standardize(&d_cols);
    // A head unit: the mean over its columns (a kv-group unit's are its query heads' columns,
    // which are contiguous: query heads g * G .. g * G + G - 1).
    const int64_t width = space.kind == HeadUnitKind::kKvGroup ? space.group * dh : dh;
    for (int64_t u = 0; u < space.heads; ++u) {
      double s = 0;
      for (int64_t j = u * width; j < (u + 1) * width; ++j) s += o_cols[static_cast<size_t>(j)];
      scores[space.HeadUnit(l, u)] = s / static_cast<double>(width);
    }
    for (int64_t c = 0; c < space.channels; ++c) scores[space.ChannelUnit(l, c)] = d_cols[c];
  }
  return scores;
}

std::vector<double> RandomScores(const UnitSpace& space, uint64_t seed) {
  std::vector<double> scores(static_cast<size_t>(space.size()), 0.0);
  Rng rng(seed);
  for (int64_t u = 0; u < space.size(); ++u) {
    const double draw = rng.UniformDouble();
    scores[static_cast<size_t>(u)] = space.protected_layer[space.LayerOf(u)] ? kInf : draw;
  }
  return scores;
}

}  // namespace gisp
