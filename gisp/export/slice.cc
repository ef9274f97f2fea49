#include "gisp/export/slice.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/base/call_context.h"
#include "gisp/base/status.h"
#include "gisp/export/output_biases.h"
#include "gisp/io/checkpoint.h"
#include "gisp/prune/fingerprint.h"
#include "gisp/prune/flap_compensation.h"
#include "gisp/prune/record.h"
#include "gisp/prune/surgery.h"
#include "gisp/units/units.h"

namespace gisp {
namespace {

// Host gathers in any dtype (the bytes are copied, so bf16 stays bit-exact).
absl::StatusOr<Tensor> GatherRowsHost(const Tensor& in, const std::vector<int32_t>& rows) {
  Shape shape = in.shape();
  shape[0] = static_cast<int64_t>(rows.size());
  GISP_ASSIGN_OR_RETURN(Tensor out, Tensor::Host(shape, in.dtype()));
  const size_t row_bytes = in.rank() == 1 ? DTypeSize(in.dtype())
                                          : static_cast<size_t>(in.dim(1)) * DTypeSize(in.dtype());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(static_cast<char*>(out.raw()) + i * row_bytes,
                static_cast<const char*>(in.raw()) + rows[i] * row_bytes, row_bytes);
  }
  return out;
}

absl::StatusOr<Tensor> GatherColsHost(const Tensor& in, const std::vector<int32_t>& cols) {
  const int64_t r = in.dim(0), c = in.dim(1), n = static_cast<int64_t>(cols.size());
  GISP_ASSIGN_OR_RETURN(Tensor out, Tensor::Host({r, n}, in.dtype()));
  const size_t es = DTypeSize(in.dtype());
  for (int64_t i = 0; i < r; ++i) {
    const char* src = static_cast<const char*>(in.raw()) + i * c * es;
    char* dst = static_cast<char*>(out.raw()) + i * n * es;
    for (int64_t j = 0; j < n; ++j) std::memcpy(dst + j * es, src + cols[j] * es, es);
  }
  return out;
}

std::vector<int32_t> AllIds(int64_t n) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>(i);
  return ids;
}

}  // namespace

absl::StatusOr<SlicedModel> SliceModel(const LlamaConfig& dense, const LlamaWeights& dense_weights,
                                       const proto::Record& record, int32_t step) {
  GISP_RETURN_IF_ERROR(ValidateRecord(record, "record"));
  GISP_CHECK_ARG(dense.IsDense(), "slicing needs the original (dense) model");
  GISP_CHECK_ARG(step >= -1 && step < record.steps_size(), "step ", step,
                 " is not a completed step of the record (it has ", record.steps_size(), ")");
  GISP_ASSIGN_OR_RETURN(std::string fingerprint, FingerprintHostWeights(dense, dense_weights));
  if (fingerprint != record.model().fingerprint()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the record belongs to another model (record fingerprint ",
                     record.model().fingerprint(), ", this model ", fingerprint, ")"));
  }
  const UnitSpace space = RecordUnitSpace(record, dense);
  GISP_CHECK_ARG(space.num_layers == dense.num_layers && space.channels == dense.intermediate_size,
                 "the record's unit layout does not match the model");
  const KeptStructure kept = ComputeKept(space, dense, PrunedAtOrBefore(record, step));
  SlicedModel out;
  out.config = dense;
  out.weights = dense_weights;
  for (int64_t l = 0; l < dense.num_layers; ++l) {
    GISP_RETURN_IF_ERROR(ReportProgress("materialize", l, dense.num_layers));
    LayerWeights& w = out.weights.layers[static_cast<size_t>(l)];
    const std::vector<int32_t> q =
        ExpandPositions(AllIds(dense.num_heads), kept.heads[l], dense.head_dim);
    const std::vector<int32_t> kv =
        ExpandPositions(AllIds(dense.num_kv_heads), kept.kv_heads[l], dense.head_dim);
    const std::vector<int32_t> ch =
        ExpandPositions(AllIds(dense.intermediate_size), kept.channels[l], 1);
    GISP_ASSIGN_OR_RETURN(w.q_proj, GatherRowsHost(w.q_proj, q));
    GISP_ASSIGN_OR_RETURN(w.o_proj, GatherColsHost(w.o_proj, q));
    GISP_ASSIGN_OR_RETURN(w.k_proj, GatherRowsHost(w.k_proj, kv));
    GISP_ASSIGN_OR_RETURN(w.v_proj, GatherRowsHost(w.v_proj, kv));
    // q/k/v biases go with their heads' rows, gate/up biases with their channels; the o/down
    // biases [D] belong to no unit and stay whole.
    if (dense.HasQkvBias()) {
      GISP_ASSIGN_OR_RETURN(w.q_bias, GatherRowsHost(w.q_bias, q));
      GISP_ASSIGN_OR_RETURN(w.k_bias, GatherRowsHost(w.k_bias, kv));
      GISP_ASSIGN_OR_RETURN(w.v_bias, GatherRowsHost(w.v_bias, kv));
    }
    GISP_ASSIGN_OR_RETURN(w.gate_proj, GatherRowsHost(w.gate_proj, ch));
    GISP_ASSIGN_OR_RETURN(w.up_proj, GatherRowsHost(w.up_proj, ch));
    GISP_ASSIGN_OR_RETURN(w.down_proj, GatherColsHost(w.down_proj, ch));
    if (dense.HasMlpBias()) {
      GISP_ASSIGN_OR_RETURN(w.gate_bias, GatherRowsHost(w.gate_bias, ch));
      GISP_ASSIGN_OR_RETURN(w.up_bias, GatherRowsHost(w.up_bias, ch));
    }
    out.config.layers[static_cast<size_t>(l)] = kept.shapes[static_cast<size_t>(l)];
  }
  // FLAP's bias compensation (docs/baselines.md): what the pruned columns fed into o_proj and
  // down_proj on average is folded into those projections' biases, so every consumer of the
  // subnetwork (evaluation, every export) gets the compensated model. The dense step (-1)
  // prunes nothing and is left as it is.
  if (record.config().method() == proto::METHOD_FLAP && step >= 0) {
    GISP_ASSIGN_OR_RETURN(FlapInputMeans means, FlapInputMeansFromRecord(record));
    GISP_ASSIGN_OR_RETURN(FlapBiasDeltas deltas,
                          FlapCompensationDeltas(dense, dense_weights, means, kept));
    GISP_RETURN_IF_ERROR(
        AddOutputBiases(deltas.o_proj, deltas.down_proj, &out.config, &out.weights));
  }
  return out;
}

absl::Status ExportSlicedModel(const std::string& dir, const SlicedModel& model,
                               DType storage_dtype, int64_t max_shard_bytes) {
  LlamaConfig config = model.config;
  config.torch_dtype = storage_dtype;
  return SaveCheckpoint(dir, config, model.weights, storage_dtype, max_shard_bytes);
}

}  // namespace gisp
