#include "gisp/saliency/activation_stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "gisp/base/call_context.h"
#include "gisp/base/status.h"
#include "gisp/model/layer.h"
#include "gisp/model/rope_table.h"
#include "gisp/model/workspace.h"

namespace gisp {
namespace {

// Adds the counted rows of `dev` ([N, C] on the device, N = B * T) to `m`. `counted[n]` says
// whether token row n is counted.
absl::Status Accumulate(Backend* be, const Tensor& dev, const std::vector<bool>& counted,
                        ColumnMoments* m) {
  const int64_t n = dev.dim(0), c = dev.dim(1);
  GISP_ASSIGN_OR_RETURN(Tensor host, Tensor::HostUninitialized({n, c}, dev.dtype()));
  GISP_RETURN_IF_ERROR(be->Download(host, dev));
  const size_t es = DTypeSize(host.dtype());
  std::vector<double> row(static_cast<size_t>(c));
  for (int64_t i = 0; i < n; ++i) {
    if (!counted[static_cast<size_t>(i)]) continue;
    ConvertElements(host.dtype(), static_cast<const char*>(host.raw()) + i * c * es, DType::kF64,
                    row.data(), static_cast<size_t>(c));
    m->Add(row);
  }
  return absl::OkStatus();
}

}  // namespace

void ColumnMoments::Add(const std::vector<double>& row) {
  if (tokens == 0) {
    sum.assign(row.size(), 0.0);
    sumsq.assign(row.size(), 0.0);
    shift = row;
    shifted_sum.assign(row.size(), 0.0);
    shifted_sumsq.assign(row.size(), 0.0);
  }
  for (size_t j = 0; j < row.size(); ++j) {
    sum[j] += row[j];
    sumsq[j] += row[j] * row[j];
    const double d = row[j] - shift[j];
    shifted_sum[j] += d;
    shifted_sumsq[j] += d * d;
  }
  ++tokens;
}

double ColumnMoments::Norm(size_t j) const { return std::sqrt(std::max(0.0, sumsq[j])); }

double ColumnMoments::Mean(size_t j) const {
  return tokens > 0 ? sum[j] / static_cast<double>(tokens) : 0.0;
}

double ColumnMoments::Variance(size_t j) const {
  if (tokens < 2) return 0.0;
  const double t = static_cast<double>(tokens);
  const double d = shifted_sum[j] / t;
  return std::max(0.0, (shifted_sumsq[j] - t * d * d) / (t - 1.0));
}

absl::StatusOr<ActivationStats> CollectActivationStats(LlamaModel* model,
                                                       const CalibrationBatches& data,
                                                       const std::vector<bool>& want,
                                                       const BatchCallback& on_batch) {
  const LlamaConfig& c = model->config();
  GISP_CHECK_ARG(static_cast<int64_t>(want.size()) == c.num_layers,
                 "activation statistics: ", want.size(), " layer flags for ", c.num_layers,
                 " layers");
  Backend* be = model->backend();
  const DType dtype = model->mutable_options()->compute_dtype;
  Workspace ws(be, dtype);
  ActivationStats stats;
  stats.o_proj.resize(want.size());
  stats.down_proj.resize(want.size());
  int64_t top = -1;  // the highest layer whose statistics are wanted: the forward stops there
  for (size_t l = 0; l < want.size(); ++l) top = want[l] ? static_cast<int64_t>(l) : top;
  const int64_t total = static_cast<int64_t>(data.batches.size());
  Tensor cos, sin;
  int64_t rope_positions = 0;
  for (int64_t bi = 0; bi < total; ++bi) {
    GISP_RETURN_IF_ERROR(CheckCancelled("the activation statistics pass"));
    const Batch& batch = data.batches[static_cast<size_t>(bi)];
    GISP_CHECK_ARG(batch.tokens.rank() == 2 && batch.tokens.dtype() == DType::kI32 &&
                       batch.targets.shape() == batch.tokens.shape() &&
                       batch.targets.dtype() == DType::kI32 && batch.tokens.device().is_cpu() &&
                       batch.targets.device().is_cpu(),
                   "calibration batch ", bi, ": tokens and targets must be host i32 [B, T]");
    const int64_t b = batch.tokens.dim(0), t = batch.tokens.dim(1), n = b * t;
    if (n == 0 || top < 0) continue;
    // Counted rows: up to each sequence's last labelled position.
    std::vector<bool> counted(static_cast<size_t>(n), false);
    for (int64_t s = 0; s < b; ++s) {
      int64_t last = -1;
      for (int64_t p = 0; p < t; ++p) {
        if (batch.targets.i32()[s * t + p] >= 0) last = p;
      }
      for (int64_t p = 0; p <= last; ++p) counted[static_cast<size_t>(s * t + p)] = true;
    }
    for (int64_t p = 0; p < n; ++p) {
      const int32_t id = batch.tokens.i32()[p];
      GISP_CHECK_ARG(id >= 0 && id < c.vocab_size, "calibration batch ", bi, ": token id ", id,
                     " outside the vocabulary [0, ", c.vocab_size, ")");
    }
    if (t > rope_positions) {
      GISP_ASSIGN_OR_RETURN(RopeTable table, MakeRopeTable(c, t, DType::kF64));
      GISP_ASSIGN_OR_RETURN(cos, be->Allocate(table.cos.shape(), dtype));
      GISP_ASSIGN_OR_RETURN(sin, be->Allocate(table.sin.shape(), dtype));
      GISP_RETURN_IF_ERROR(be->Upload(cos, table.cos));
      GISP_RETURN_IF_ERROR(be->Upload(sin, table.sin));
      rope_positions = t;
    }
    GISP_ASSIGN_OR_RETURN(Tensor ids, ws.Get("ids", {n}, DType::kI32));
    GISP_RETURN_IF_ERROR(be->Upload(ids, batch.tokens.View(0, {n})));
    GISP_ASSIGN_OR_RETURN(Tensor x, ws.Get("x.0", {n, c.hidden_size}));
    GISP_ASSIGN_OR_RETURN(Tensor y, ws.Get("x.1", {n, c.hidden_size}));
    GISP_RETURN_IF_ERROR(be->EmbeddingForward(x, model->weights().embed, ids));
    LayerContext ctx;
    ctx.backend = be;
    ctx.config = &c;
    ctx.batch = b;
    ctx.seq = t;
    ctx.rope_cos = cos;
    ctx.rope_sin = sin;
    ctx.workspace = &ws;
    for (int64_t l = 0; l <= top; ++l) {
      ctx.layer = l;
      ctx.kv_map = &model->kv_map(l);
      GISP_ASSIGN_OR_RETURN(LayerActivations acts, GetLayerActivations(ctx, "stats"));
      GISP_RETURN_IF_ERROR(
          LayerForward(ctx, model->weights().layers[static_cast<size_t>(l)], x, y, &acts));
      if (want[static_cast<size_t>(l)]) {
        const Tensor attn = acts.attn.View(0, {n, acts.attn.numel() / n});
        GISP_RETURN_IF_ERROR(Accumulate(be, attn, counted, &stats.o_proj[static_cast<size_t>(l)]));
        GISP_RETURN_IF_ERROR(
            Accumulate(be, acts.act, counted, &stats.down_proj[static_cast<size_t>(l)]));
      }
      std::swap(x, y);
    }
    if (on_batch && !on_batch(bi + 1, total)) {
      return absl::CancelledError("cancelled during the activation statistics pass");
    }
  }
  for (size_t l = 0; l < want.size(); ++l) {
    for (const ColumnMoments* m : {&stats.o_proj[l], &stats.down_proj[l]}) {
      for (double v : m->sumsq) {
        if (!std::isfinite(v)) {
          return absl::InvalidArgumentError(
              absl::StrCat("layer ", l, ": the calibration activations overflowed or are NaN"));
        }
      }
    }
  }
  return stats;
}

}  // namespace gisp
