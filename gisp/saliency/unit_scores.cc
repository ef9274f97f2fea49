#include "gisp/saliency/unit_scores.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// Per-row (or per-column) sums of |w * g| copied to the host as doubles.
absl::StatusOr<std::vector<double>> Reduce(Backend* be, const Tensor& w, const Tensor& g,
                                           bool rows) {
  const int64_t n = rows ? w.dim(0) : w.dim(1);
  std::vector<double> out(static_cast<size_t>(n), 0.0);
  if (n == 0 || w.numel() == 0) return out;
  GISP_ASSIGN_OR_RETURN(Tensor dev, be->Allocate({n}));
  GISP_RETURN_IF_ERROR(rows ? be->AbsProdRowSum(dev, w, g) : be->AbsProdColSum(dev, w, g));
  GISP_ASSIGN_OR_RETURN(Tensor host, Tensor::Host({n}, DType::kF64));
  GISP_RETURN_IF_ERROR(be->Copy(host, dev));
  for (int64_t i = 0; i < n; ++i) out[i] = host.data<double>()[i];
  return out;
}

// Sums consecutive blocks of `width` entries: per-head totals from per-row totals.
void AddBlocks(const std::vector<double>& per_row, int64_t width, std::vector<double>* per_head) {
  for (size_t i = 0; i < per_row.size(); ++i) (*per_head)[i / width] += per_row[i];
}

}  // namespace

uint32_t ScoredParams(const UnitSpace& space) {
  uint32_t bits = kParamQ | kParamO | kParamGate | kParamUp | kParamDown;
  if (space.kind != HeadUnitKind::kQueryHead) bits |= kParamK | kParamV;
  return bits;
}

Normalizer MakeNormalizer(const UnitSpace& space, const LlamaConfig& dense,
                          proto::Normalization mode) {
  Normalizer n;
  if (mode == proto::NORMALIZATION_NONE) return n;
  const double dh = static_cast<double>(dense.head_dim);
  const double d = static_cast<double>(dense.hidden_size);
  n.head = space.kind == HeadUnitKind::kKvGroup ? (2.0 * space.group + 2.0) * dh * d : 4.0 * dh * d;
  n.channel = mode == proto::NORMALIZATION_PAPER
                  ? 3.0 * d
                  : 3.0 * static_cast<double>(dense.intermediate_size);
  return n;
}

absl::StatusOr<UnitScores> ComputeUnitScores(const UnitSpace& space, const KeptStructure& kept,
                                             const LlamaModel& model, const LlamaGradients& gbar,
                                             const std::vector<bool>& pruned,
                                             const Normalizer& normalizer) {
  Backend* be = model.backend();
  const int64_t dh = model.config().head_dim;
  UnitScores s;
  s.raw.assign(static_cast<size_t>(space.size()), 0.0);
  s.normalized.assign(s.raw.size(), 0.0);
  for (int64_t l = 0; l < space.num_layers; ++l) {
    if (space.protected_layer[l]) {
      for (int64_t u = l * space.per_layer(); u < (l + 1) * space.per_layer(); ++u) {
        s.raw[u] = s.normalized[u] = std::numeric_limits<double>::infinity();
      }
      continue;
    }
    const LayerWeights& w = model.weights().layers[static_cast<size_t>(l)];
    const LayerWeights& g = gbar.layers[static_cast<size_t>(l)];
    const auto& heads = kept.heads[l];
    const auto& kvs = kept.kv_heads[l];
    // Per kept query head / KV head / channel of the working layout.
    std::vector<double> q_head(heads.size(), 0.0), kv_head(kvs.size(), 0.0);
    GISP_ASSIGN_OR_RETURN(std::vector<double> q_rows, Reduce(be, w.q_proj, g.q_proj, true));
    GISP_ASSIGN_OR_RETURN(std::vector<double> o_cols, Reduce(be, w.o_proj, g.o_proj, false));
    AddBlocks(q_rows, dh, &q_head);
    AddBlocks(o_cols, dh, &q_head);
    if (space.kind != HeadUnitKind::kQueryHead) {
      GISP_ASSIGN_OR_RETURN(std::vector<double> k_rows, Reduce(be, w.k_proj, g.k_proj, true));
      GISP_ASSIGN_OR_RETURN(std::vector<double> v_rows, Reduce(be, w.v_proj, g.v_proj, true));
      AddBlocks(k_rows, dh, &kv_head);
      AddBlocks(v_rows, dh, &kv_head);
    }
    GISP_ASSIGN_OR_RETURN(std::vector<double> gate, Reduce(be, w.gate_proj, g.gate_proj, true));
    GISP_ASSIGN_OR_RETURN(std::vector<double> up, Reduce(be, w.up_proj, g.up_proj, true));
    GISP_ASSIGN_OR_RETURN(std::vector<double> down, Reduce(be, w.down_proj, g.down_proj, false));

    switch (space.kind) {
      case HeadUnitKind::kQueryHead:
        for (size_t i = 0; i < heads.size(); ++i) s.raw[space.HeadUnit(l, heads[i])] = q_head[i];
        break;
      case HeadUnitKind::kMha:
        for (size_t i = 0; i < heads.size(); ++i) {
          s.raw[space.HeadUnit(l, heads[i])] = q_head[i] + kv_head[i];
        }
        break;
      case HeadUnitKind::kKvGroup:
        for (size_t j = 0; j < kvs.size(); ++j) s.raw[space.HeadUnit(l, kvs[j])] = kv_head[j];
        for (size_t i = 0; i < heads.size(); ++i) {
          s.raw[space.HeadUnit(l, heads[i] / space.group)] += q_head[i];
        }
        break;
    }
    const auto& channels = kept.channels[l];
    for (size_t i = 0; i < channels.size(); ++i) {
      s.raw[space.ChannelUnit(l, channels[i])] = gate[i] + up[i] + down[i];
    }
    for (int64_t u = l * space.per_layer(); u < (l + 1) * space.per_layer(); ++u) {
      if (pruned[u]) s.raw[u] = 0.0;  // exactly 0, so masks nest
      if (!std::isfinite(s.raw[u])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "non-finite importance score for layer ", l, space.IsHead(u) ? " head " : " channel ",
            space.IndexInKind(u), ": the calibration gradients overflowed or are NaN"));
      }
      s.normalized[u] = s.raw[u] / (space.IsHead(u) ? normalizer.head : normalizer.channel);
    }
  }
  return s;
}

}  // namespace gisp
