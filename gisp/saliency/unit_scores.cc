#include "gisp/saliency/unit_scores.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gisp/base/enum_names.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

constexpr EnumName<Normalization> kNormalizationNames[] = {{Normalization::kReference, "reference"},
                                                           {Normalization::kPaper, "paper"},
                                                           {Normalization::kNone, "none"}};

// One saliency reduction: per-row (or per-column) sums of |w * g| into a slice of the step's
// result buffer.
struct Reduction {
  const Tensor* w;
  const Tensor* g;
  bool rows;
  int64_t offset = 0;  // into the f64 result buffer
  int64_t length = 0;
};

// Runs every reduction into one f64 device buffer and downloads it once: a step costs one
// transfer, not one per matrix.
absl::StatusOr<std::vector<double>> RunReductions(Backend* be, std::vector<Reduction>* work) {
  int64_t total = 0;
  for (Reduction& r : *work) {
    r.offset = total;
    r.length = r.w->empty() ? 0 : (r.rows ? r.w->dim(0) : r.w->dim(1));
    total += r.length;
  }
  std::vector<double> out(static_cast<size_t>(total), 0.0);
  if (total == 0) return out;
  GISP_ASSIGN_OR_RETURN(Tensor dev, be->Allocate({total}, DType::kF64));
  for (const Reduction& r : *work) {
    if (r.length == 0 || r.w->numel() == 0) {
      if (r.length > 0) {
        // An empty contraction (zero columns): the sums are 0.
        GISP_RETURN_IF_ERROR(be->Upload(
            dev.View(r.offset, {r.length}),
            Tensor(Buffer::WrapHost(out.data() + r.offset, r.length * sizeof(double), nullptr), 0,
                   {r.length}, DType::kF64)));
      }
      continue;
    }
    const Tensor slice = dev.View(r.offset, {r.length});
    GISP_RETURN_IF_ERROR(r.rows ? be->AbsProdRowSum(slice, *r.w, *r.g)
                                : be->AbsProdColSum(slice, *r.w, *r.g));
  }
  const Tensor host(Buffer::WrapHost(out.data(), out.size() * sizeof(double), nullptr), 0, {total},
                    DType::kF64);
  GISP_RETURN_IF_ERROR(be->Download(host, dev));
  return out;
}

// The slice of `all` that reduction `r` produced.
std::vector<double> Part(const std::vector<double>& all, const Reduction& r) {
  return std::vector<double>(all.begin() + r.offset, all.begin() + r.offset + r.length);
}

// Sums consecutive blocks of `width` entries: per-head totals from per-row totals.
void AddBlocks(const std::vector<double>& per_row, int64_t width, std::vector<double>* per_head) {
  for (size_t i = 0; i < per_row.size(); ++i) (*per_head)[i / width] += per_row[i];
}

}  // namespace

const char* NormalizationName(Normalization mode) { return NameOf(kNormalizationNames, mode); }

absl::StatusOr<Normalization> ParseNormalization(absl::string_view name) {
  return ParseName(kNormalizationNames, "normalization", name);
}

uint32_t ScoredParams(const UnitSpace& space) {
  uint32_t bits = kParamQ | kParamO | kParamGate | kParamUp | kParamDown;
  if (space.kind != HeadUnitKind::kQueryHead) bits |= kParamK | kParamV;
  return bits;
}

Normalizer MakeNormalizer(const UnitSpace& space, const LlamaConfig& dense, Normalization mode) {
  Normalizer n;
  if (mode == Normalization::kNone) return n;
  const double dh = static_cast<double>(dense.head_dim);
  const double d = static_cast<double>(dense.hidden_size);
  n.head = space.kind == HeadUnitKind::kKvGroup ? (2.0 * space.group + 2.0) * dh * d : 4.0 * dh * d;
  n.channel =
      mode == Normalization::kPaper ? 3.0 * d : 3.0 * static_cast<double>(dense.intermediate_size);
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
  // Seven reductions per unprotected layer (five for query-head units), all into one buffer.
  const bool kv_scored = space.kind != HeadUnitKind::kQueryHead;
  enum { kQ, kO, kK, kV, kGate, kUp, kDown, kPerLayer };
  std::vector<Reduction> work;
  std::vector<int64_t> first(static_cast<size_t>(space.num_layers), -1);
  const Tensor none;
  auto add_layer = [&](const LayerWeights& w, const LayerWeights& g) {
    work.push_back({&w.q_proj, &g.q_proj, true});
    work.push_back({&w.o_proj, &g.o_proj, false});
    work.push_back({kv_scored ? &w.k_proj : &none, &g.k_proj, true});
    work.push_back({kv_scored ? &w.v_proj : &none, &g.v_proj, true});
    work.push_back({&w.gate_proj, &g.gate_proj, true});
    work.push_back({&w.up_proj, &g.up_proj, true});
    work.push_back({&w.down_proj, &g.down_proj, false});
  };
  std::vector<double> sums;
  if (!model.streaming()) {
    for (int64_t l = 0; l < space.num_layers; ++l) {
      if (space.protected_layer[l]) continue;
      first[static_cast<size_t>(l)] = static_cast<int64_t>(work.size());
      add_layer(model.weights().layers[static_cast<size_t>(l)],
                gbar.layers[static_cast<size_t>(l)]);
    }
    GISP_ASSIGN_OR_RETURN(sums, RunReductions(be, &work));
  } else {
    // Streamed (host weights and Gbar): one layer at a time on the device. Each reduction is
    // computed by the same kernel on the same values, so the sums equal the resident ones.
    for (int64_t l = 0; l < space.num_layers; ++l) {
      if (space.protected_layer[l]) continue;
      GISP_ASSIGN_OR_RETURN(const LayerWeights w, model.DeviceLayer(l));
      GISP_ASSIGN_OR_RETURN(const LayerWeights g,
                            model.StageGradients(gbar.layers[static_cast<size_t>(l)]));
      const size_t begin = work.size();
      first[static_cast<size_t>(l)] = static_cast<int64_t>(begin);
      add_layer(w, g);
      std::vector<Reduction> layer(work.begin() + static_cast<std::ptrdiff_t>(begin), work.end());
      GISP_ASSIGN_OR_RETURN(std::vector<double> part, RunReductions(be, &layer));
      const int64_t base = static_cast<int64_t>(sums.size());
      for (size_t i = 0; i < layer.size(); ++i) {
        Reduction& r = work[begin + i];
        r = layer[i];
        r.offset += base;
        r.w = r.g = nullptr;  // the staged tensors are released at the end of this iteration
      }
      sums.insert(sums.end(), part.begin(), part.end());
    }
  }

  for (int64_t l = 0; l < space.num_layers; ++l) {
    if (space.protected_layer[l]) {
      for (int64_t u = l * space.per_layer(); u < (l + 1) * space.per_layer(); ++u) {
        s.raw[u] = s.normalized[u] = std::numeric_limits<double>::infinity();
      }
      continue;
    }
    const Reduction* r = &work[static_cast<size_t>(first[static_cast<size_t>(l)])];
    static_assert(kPerLayer == 7, "seven reductions per layer");
    const auto& heads = kept.heads[l];
    const auto& kvs = kept.kv_heads[l];
    // Per kept query head / KV head / channel of the working layout.
    std::vector<double> q_head(heads.size(), 0.0), kv_head(kvs.size(), 0.0);
    AddBlocks(Part(sums, r[kQ]), dh, &q_head);
    AddBlocks(Part(sums, r[kO]), dh, &q_head);
    if (kv_scored) {
      AddBlocks(Part(sums, r[kK]), dh, &kv_head);
      AddBlocks(Part(sums, r[kV]), dh, &kv_head);
    }
    const std::vector<double> gate = Part(sums, r[kGate]);
    const std::vector<double> up = Part(sums, r[kUp]);
    const std::vector<double> down = Part(sums, r[kDown]);

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
