#include "gisp/prune/surgery.h"

#include <algorithm>

#include "gisp/base/status.h"

namespace gisp {

std::vector<int32_t> ExpandPositions(const std::vector<int32_t>& current,
                                     const std::vector<int32_t>& subset, int64_t width) {
  std::vector<int32_t> rows;
  rows.reserve(subset.size() * static_cast<size_t>(width));
  size_t p = 0;
  for (int32_t id : subset) {
    while (p < current.size() && current[p] < id) ++p;
    for (int64_t r = 0; r < width; ++r) rows.push_back(static_cast<int32_t>(p * width + r));
  }
  return rows;
}

namespace {

std::vector<int32_t> Complement(int64_t n, const std::vector<int32_t>& kept, int64_t width) {
  std::vector<bool> keep(static_cast<size_t>(n), false);
  for (int32_t id : kept) keep[id] = true;
  std::vector<int32_t> rows;
  for (int64_t i = 0; i < n; ++i) {
    if (keep[i]) continue;
    for (int64_t r = 0; r < width; ++r) rows.push_back(static_cast<int32_t>(i * width + r));
  }
  return rows;
}

absl::Status Rows(Backend* be, Tensor* t, const std::vector<int32_t>& rows) {
  if (t->empty()) return absl::OkStatus();
  Shape shape = t->shape();
  shape[0] = static_cast<int64_t>(rows.size());
  GISP_ASSIGN_OR_RETURN(Tensor out, be->Allocate(shape, t->dtype()));
  GISP_RETURN_IF_ERROR(be->GatherRows(out, *t, rows));
  *t = std::move(out);
  return absl::OkStatus();
}

absl::Status Cols(Backend* be, Tensor* t, const std::vector<int32_t>& cols) {
  GISP_ASSIGN_OR_RETURN(Tensor out,
                        be->Allocate({t->dim(0), static_cast<int64_t>(cols.size())}, t->dtype()));
  GISP_RETURN_IF_ERROR(be->GatherCols(out, *t, cols));
  *t = std::move(out);
  return absl::OkStatus();
}

}  // namespace

absl::Status MaskModel(LlamaModel* model, const KeptStructure& kept) {
  Backend* be = model->backend();
  const LlamaConfig& c = model->config();
  for (int64_t l = 0; l < c.num_layers; ++l) {
    LayerWeights& w = model->mutable_weights()->layers[static_cast<size_t>(l)];
    const std::vector<int32_t> q = Complement(c.num_heads, kept.heads[l], c.head_dim);
    const std::vector<int32_t> kv = Complement(c.num_kv_heads, kept.kv_heads[l], c.head_dim);
    const std::vector<int32_t> ch = Complement(c.intermediate_size, kept.channels[l], 1);
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.q_proj, q));
    GISP_RETURN_IF_ERROR(be->ZeroCols(w.o_proj, q));
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.k_proj, kv));
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.v_proj, kv));
    if (c.attention_bias) {
      GISP_RETURN_IF_ERROR(be->ZeroRows(w.q_bias, q));
      GISP_RETURN_IF_ERROR(be->ZeroRows(w.k_bias, kv));
      GISP_RETURN_IF_ERROR(be->ZeroRows(w.v_bias, kv));
    }
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.gate_proj, ch));
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.up_proj, ch));
    GISP_RETURN_IF_ERROR(be->ZeroCols(w.down_proj, ch));
  }
  return absl::OkStatus();
}

absl::Status CompactModel(LlamaModel* model, const KeptStructure& current,
                          const KeptStructure& next) {
  Backend* be = model->backend();
  LlamaConfig c = model->config();
  for (int64_t l = 0; l < c.num_layers; ++l) {
    LayerWeights& w = model->mutable_weights()->layers[static_cast<size_t>(l)];
    if (next.heads[l] != current.heads[l]) {
      const std::vector<int32_t> q = ExpandPositions(current.heads[l], next.heads[l], c.head_dim);
      GISP_RETURN_IF_ERROR(Rows(be, &w.q_proj, q));
      GISP_RETURN_IF_ERROR(Rows(be, &w.q_bias, q));
      GISP_RETURN_IF_ERROR(Cols(be, &w.o_proj, q));
    }
    if (next.kv_heads[l] != current.kv_heads[l]) {
      const std::vector<int32_t> kv =
          ExpandPositions(current.kv_heads[l], next.kv_heads[l], c.head_dim);
      GISP_RETURN_IF_ERROR(Rows(be, &w.k_proj, kv));
      GISP_RETURN_IF_ERROR(Rows(be, &w.k_bias, kv));
      GISP_RETURN_IF_ERROR(Rows(be, &w.v_proj, kv));
      GISP_RETURN_IF_ERROR(Rows(be, &w.v_bias, kv));
    }
    if (next.channels[l] != current.channels[l]) {
      const std::vector<int32_t> ch = ExpandPositions(current.channels[l], next.channels[l], 1);
      GISP_RETURN_IF_ERROR(Rows(be, &w.gate_proj, ch));
      GISP_RETURN_IF_ERROR(Rows(be, &w.up_proj, ch));
      GISP_RETURN_IF_ERROR(Cols(be, &w.down_proj, ch));
    }
    c.layers[static_cast<size_t>(l)] = next.shapes[static_cast<size_t>(l)];
  }
  model->set_config(c);
  return absl::OkStatus();
}

}  // namespace gisp
