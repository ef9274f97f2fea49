#include "gisp/prune/sparsity.h"

#include <algorithm>

#include "gisp/base/status.h"
#include "gisp/prune/ranking.h"

namespace gisp {
namespace {

// Nonzero count of each row (rows = true) or column of a host matrix of any float dtype (the
// model's host weights, e.g. a memory-mapped bf16 checkpoint), converted a row at a time.
std::vector<int64_t> Nonzeros(const Tensor& m, bool rows) {
  const int64_t r = m.dim(0), c = m.dim(1);
  std::vector<int64_t> out(static_cast<size_t>(rows ? r : c), 0);
  std::vector<float> row(static_cast<size_t>(c));
  const size_t es = DTypeSize(m.dtype());
  for (int64_t i = 0; i < r; ++i) {
    ConvertElements(m.dtype(), static_cast<const char*>(m.raw()) + i * c * es, DType::kF32,
                    row.data(), static_cast<size_t>(c));
    for (int64_t j = 0; j < c; ++j) {
      if (row[static_cast<size_t>(j)] != 0.0f) ++out[static_cast<size_t>(rows ? i : j)];
    }
  }
  return out;
}

// Sums consecutive blocks of `width` entries: per-head totals from per-row totals.
std::vector<int64_t> Blocks(const std::vector<int64_t>& v, int64_t width) {
  std::vector<int64_t> out(v.size() / static_cast<size_t>(width), 0);
  for (size_t i = 0; i < v.size(); ++i) out[i / width] += v[i];
  return out;
}

}  // namespace

double UnitWeightCounts::SparsityOf(const std::vector<bool>& pruned) const {
  int64_t kept = always_kept;
  for (size_t u = 0; u < pruned.size() && u < per_unit.size(); ++u) {
    if (!pruned[u]) kept += per_unit[u];
  }
  return 1.0 - static_cast<double>(kept) / static_cast<double>(decoder_parameters);
}

UnitWeightCounts CountUnitWeights(const UnitSpace& space, const LlamaModel& model) {
  const LlamaConfig& dense = model.config();
  const int64_t dh = dense.head_dim;
  UnitWeightCounts counts;
  counts.per_unit.assign(static_cast<size_t>(space.size()), 0);
  counts.decoder_parameters = dense.DecoderParameters();
  for (int64_t l = 0; l < space.num_layers; ++l) {
    const LayerWeights& w = model.host_weights().layers[static_cast<size_t>(l)];
    const std::vector<int64_t> qh = Blocks(Nonzeros(w.q_proj, true), dh);
    const std::vector<int64_t> oh = Blocks(Nonzeros(w.o_proj, false), dh);
    const std::vector<int64_t> kh = Blocks(Nonzeros(w.k_proj, true), dh);
    const std::vector<int64_t> vh = Blocks(Nonzeros(w.v_proj, true), dh);
    for (int64_t u = 0; u < space.heads; ++u) {
      int64_t& n = counts.per_unit[space.HeadUnit(l, u)];
      switch (space.kind) {
        case HeadUnitKind::kMha:
          n = qh[u] + oh[u] + kh[u] + vh[u];
          break;
        case HeadUnitKind::kQueryHead:
          n = qh[u] + oh[u];
          break;
        case HeadUnitKind::kKvGroup:
          n = kh[u] + vh[u];
          for (int64_t g = 0; g < space.group; ++g) {
            n += qh[u * space.group + g] + oh[u * space.group + g];
          }
          break;
      }
    }
    if (space.kind == HeadUnitKind::kQueryHead) {
      for (int64_t j = 0; j < dense.num_kv_heads; ++j) counts.always_kept += kh[j] + vh[j];
    }
    const std::vector<int64_t> gr = Nonzeros(w.gate_proj, true), ur = Nonzeros(w.up_proj, true),
                               dc = Nonzeros(w.down_proj, false);
    for (int64_t c = 0; c < space.channels; ++c) {
      counts.per_unit[space.ChannelUnit(l, c)] = gr[c] + ur[c] + dc[c];
    }
  }
  return counts;
}

absl::StatusOr<SparsityRange> RunSparsityRange(const LlamaModel& model, const PruneConfig& config) {
  GISP_RETURN_IF_ERROR(ValidatePruneConfig(config));
  GISP_ASSIGN_OR_RETURN(
      UnitSpace space, MakeUnitSpace(model.config(), config.gqa_unit, config.protect_first_fraction,
                                     config.protect_last));
  const UnitWeightCounts counts = CountUnitWeights(space, model);
  std::vector<bool> pruned(counts.per_unit.size(), false);
  SparsityRange range;
  range.dense = counts.SparsityOf(pruned);
  // The last step prunes the units ranked at or below ThresholdRank (pruned units score 0 and
  // are among them); rounding kept channels down may take up to round - 1 more per layer.
  int64_t budget = ThresholdRank(space.size(), config.ratio);
  // The score-once methods (method.h) walk target sparsities, not unit ratios: any set of
  // unprotected units is within their reach.
  if (ScoresOnce(config.method)) budget = space.size();
  int64_t open_layers = 0;
  for (bool p : space.protected_layer) open_layers += p ? 0 : 1;
  if (config.round_channels_to > 1) budget += open_layers * (config.round_channels_to - 1);
  std::vector<int64_t> open;  // unprotected units, heaviest first
  for (int64_t u = 0; u < space.size(); ++u) {
    if (!space.protected_layer[space.LayerOf(u)]) open.push_back(u);
  }
  std::stable_sort(open.begin(), open.end(),
                   [&](int64_t a, int64_t b) { return counts.per_unit[a] > counts.per_unit[b]; });
  const size_t take = static_cast<size_t>(std::min<int64_t>(budget, open.size()));
  for (size_t i = 0; i < take; ++i) pruned[open[i]] = true;
  range.reachable = counts.SparsityOf(pruned);
  return range;
}

}  // namespace gisp
