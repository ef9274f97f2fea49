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

absl::Status Rows(Backend* be, Tensor* t, const IndexList& rows) {
  if (t->empty()) return absl::OkStatus();
  Shape shape = t->shape();
  shape[0] = rows.size();
  GISP_ASSIGN_OR_RETURN(Tensor out, be->Allocate(shape, t->dtype()));
  GISP_RETURN_IF_ERROR(be->GatherRows(out, *t, rows));
  *t = std::move(out);
  return absl::OkStatus();
}

absl::Status Cols(Backend* be, Tensor* t, const IndexList& cols) {
  GISP_ASSIGN_OR_RETURN(Tensor out, be->Allocate({t->dim(0), cols.size()}, t->dtype()));
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
    // Each list goes to the device once and serves every matrix it masks.
    GISP_ASSIGN_OR_RETURN(
        const IndexList q,
        be->UploadIndices(Complement(c.num_heads, kept.heads[l], c.head_dim),
                          c.num_heads * c.head_dim));
    GISP_ASSIGN_OR_RETURN(
        const IndexList kv,
        be->UploadIndices(Complement(c.num_kv_heads, kept.kv_heads[l], c.head_dim),
                          c.num_kv_heads * c.head_dim));
    GISP_ASSIGN_OR_RETURN(
        const IndexList ch,
        be->UploadIndices(Complement(c.intermediate_size, kept.channels[l], 1),
                          c.intermediate_size));
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
    const LayerShape& now = c.layers[static_cast<size_t>(l)];
    if (next.heads[l] != current.heads[l]) {
      GISP_ASSIGN_OR_RETURN(
          const IndexList q,
          be->UploadIndices(ExpandPositions(current.heads[l], next.heads[l], c.head_dim),
                            now.n_heads * c.head_dim));
      GISP_RETURN_IF_ERROR(Rows(be, &w.q_proj, q));
      GISP_RETURN_IF_ERROR(Rows(be, &w.q_bias, q));
      GISP_RETURN_IF_ERROR(Cols(be, &w.o_proj, q));
    }
    if (next.kv_heads[l] != current.kv_heads[l]) {
      GISP_ASSIGN_OR_RETURN(
          const IndexList kv,
          be->UploadIndices(ExpandPositions(current.kv_heads[l], next.kv_heads[l], c.head_dim),
                            now.n_kv_heads * c.head_dim));
      GISP_RETURN_IF_ERROR(Rows(be, &w.k_proj, kv));
      GISP_RETURN_IF_ERROR(Rows(be, &w.k_bias, kv));
      GISP_RETURN_IF_ERROR(Rows(be, &w.v_proj, kv));
      GISP_RETURN_IF_ERROR(Rows(be, &w.v_bias, kv));
    }
    if (next.channels[l] != current.channels[l]) {
      GISP_ASSIGN_OR_RETURN(
          const IndexList ch,
          be->UploadIndices(ExpandPositions(current.channels[l], next.channels[l], 1),
                            now.intermediate));
      GISP_RETURN_IF_ERROR(Rows(be, &w.gate_proj, ch));
      GISP_RETURN_IF_ERROR(Rows(be, &w.up_proj, ch));
      GISP_RETURN_IF_ERROR(Cols(be, &w.down_proj, ch));
    }
    c.layers[static_cast<size_t>(l)] = next.shapes[static_cast<size_t>(l)];
  }
  return model->set_config(c);
}

}  // namespace gisp
