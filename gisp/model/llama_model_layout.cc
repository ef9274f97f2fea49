// LlamaModel's layout changes: masking (ZeroPositions) and compaction (ApplyLayout). The model
// owns them so its weights, config().layers and device kv maps always agree.
#include <utility>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"
#include "gisp/model/llama_model.h"

namespace gisp {
namespace {

// Rows p*width .. p*width+width-1 of every position p.
std::vector<int32_t> Expand(const std::vector<int32_t>& positions, int64_t width) {
  std::vector<int32_t> rows;
  rows.reserve(positions.size() * static_cast<size_t>(width));
  for (int32_t p : positions) {
    for (int64_t r = 0; r < width; ++r) rows.push_back(static_cast<int32_t>(p * width + r));
  }
  return rows;
}

// Ascending, each in [0, n).
absl::Status CheckPositions(const std::vector<int32_t>& positions, int64_t n, int64_t layer,
                            const char* what) {
  for (size_t i = 0; i < positions.size(); ++i) {
    const bool ascending = i == 0 || positions[i] > positions[i - 1];
    if (positions[i] < 0 || positions[i] >= n || !ascending) {
      return absl::InvalidArgumentError(absl::StrCat("model layout: layer ", layer, " ", what,
                                                     " position ", positions[i],
                                                     " is out of order or not below ", n));
    }
  }
  return absl::OkStatus();
}

// True when `positions` are all of 0..n-1.
bool KeepsAll(const std::vector<int32_t>& positions, int64_t n) {
  if (static_cast<int64_t>(positions.size()) != n) return false;
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i] != static_cast<int32_t>(i)) return false;
  }
  return true;
}

absl::Status GatherRowsOf(Backend* be, Tensor* t, const IndexList& rows) {
  if (t->empty()) return absl::OkStatus();
  Shape shape = t->shape();
  shape[0] = rows.size();
  GISP_ASSIGN_OR_RETURN(Tensor out, be->Allocate(shape, t->dtype()));
  GISP_RETURN_IF_ERROR(be->GatherRows(out, *t, rows));
  *t = std::move(out);
  return absl::OkStatus();
}

absl::Status GatherColsOf(Backend* be, Tensor* t, const IndexList& cols) {
  GISP_ASSIGN_OR_RETURN(Tensor out, be->Allocate({t->dim(0), cols.size()}, t->dtype()));
  GISP_RETURN_IF_ERROR(be->GatherCols(out, *t, cols));
  *t = std::move(out);
  return absl::OkStatus();
}

}  // namespace

absl::Status LlamaModel::ZeroPositions(const std::vector<LayerPositions>& zero) {
  const LlamaConfig& c = config_;
  GISP_CHECK_ARG(static_cast<int64_t>(zero.size()) == c.num_layers, "model layout: ", zero.size(),
                 " layers given, the model has ", c.num_layers);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerShape& now = c.layers[static_cast<size_t>(l)];
    const LayerPositions& z = zero[static_cast<size_t>(l)];
    GISP_RETURN_IF_ERROR(CheckPositions(z.heads, now.n_heads, l, "query head"));
    GISP_RETURN_IF_ERROR(CheckPositions(z.kv_heads, now.n_kv_heads, l, "KV head"));
    GISP_RETURN_IF_ERROR(CheckPositions(z.channels, now.intermediate, l, "channel"));
  }
  Backend* be = backend_;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerShape& now = c.layers[static_cast<size_t>(l)];
    const LayerPositions& z = zero[static_cast<size_t>(l)];
    if (z.heads.empty() && z.kv_heads.empty() && z.channels.empty()) continue;
    // Resident: the working tensors themselves; streamed: an upload, zeroed on the device and
    // kept as new host tensors (never written into the checkpoint's mapping).
    GISP_ASSIGN_OR_RETURN(LayerWeights w, DeviceLayer(l));
    // Each list goes to the device once and serves every matrix it masks.
    GISP_ASSIGN_OR_RETURN(const IndexList q,
                          be->UploadIndices(Expand(z.heads, c.head_dim), now.n_heads * c.head_dim));
    GISP_ASSIGN_OR_RETURN(const IndexList kv, be->UploadIndices(Expand(z.kv_heads, c.head_dim),
                                                                now.n_kv_heads * c.head_dim));
    GISP_ASSIGN_OR_RETURN(const IndexList ch,
                          be->UploadIndices(Expand(z.channels, 1), now.intermediate));
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.q_proj, q));
    GISP_RETURN_IF_ERROR(be->ZeroCols(w.o_proj, q));
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.k_proj, kv));
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.v_proj, kv));
    if (c.HasQkvBias()) {
      GISP_RETURN_IF_ERROR(be->ZeroRows(w.q_bias, q));
      GISP_RETURN_IF_ERROR(be->ZeroRows(w.k_bias, kv));
      GISP_RETURN_IF_ERROR(be->ZeroRows(w.v_bias, kv));
    }
    // o/down biases are [D] and belong to no unit: they stay. A zeroed channel with a gate/up
    // bias would still output silu(bg) * bu, so those biases are zeroed with their channel.
    if (c.HasMlpBias()) {
      GISP_RETURN_IF_ERROR(be->ZeroRows(w.gate_bias, ch));
      GISP_RETURN_IF_ERROR(be->ZeroRows(w.up_bias, ch));
    }
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.gate_proj, ch));
    GISP_RETURN_IF_ERROR(be->ZeroRows(w.up_proj, ch));
    GISP_RETURN_IF_ERROR(be->ZeroCols(w.down_proj, ch));
    GISP_RETURN_IF_ERROR(StoreLayer(l, w));
  }
  return absl::OkStatus();
}

absl::Status LlamaModel::ApplyLayout(const std::vector<LayerPositions>& keep,
                                     const std::vector<LayerShape>& shapes) {
  LlamaConfig c = config_;
  GISP_CHECK_ARG(static_cast<int64_t>(keep.size()) == c.num_layers &&
                     static_cast<int64_t>(shapes.size()) == c.num_layers,
                 "model layout: ", keep.size(), " position lists and ", shapes.size(),
                 " shapes given, the model has ", c.num_layers, " layers");
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerShape& now = c.layers[static_cast<size_t>(l)];
    const LayerShape& next = shapes[static_cast<size_t>(l)];
    const LayerPositions& k = keep[static_cast<size_t>(l)];
    GISP_RETURN_IF_ERROR(CheckPositions(k.heads, now.n_heads, l, "query head"));
    GISP_RETURN_IF_ERROR(CheckPositions(k.kv_heads, now.n_kv_heads, l, "KV head"));
    GISP_RETURN_IF_ERROR(CheckPositions(k.channels, now.intermediate, l, "channel"));
    GISP_CHECK_ARG(static_cast<int64_t>(k.heads.size()) == next.n_heads &&
                       static_cast<int64_t>(k.kv_heads.size()) == next.n_kv_heads &&
                       static_cast<int64_t>(k.channels.size()) == next.intermediate &&
                       static_cast<int64_t>(next.kv_map.size()) == next.n_heads,
                   "model layout: layer ", l, " keeps ", k.heads.size(), " query heads, ",
                   k.kv_heads.size(), " KV heads and ", k.channels.size(),
                   " channels, but its new shape has ", next.n_heads, ", ", next.n_kv_heads,
                   " and ", next.intermediate, " (kv_map of ", next.kv_map.size(), ")");
  }
  Backend* be = backend_;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerShape& now = c.layers[static_cast<size_t>(l)];
    const LayerPositions& k = keep[static_cast<size_t>(l)];
    if (KeepsAll(k.heads, now.n_heads) && KeepsAll(k.kv_heads, now.n_kv_heads) &&
        KeepsAll(k.channels, now.intermediate)) {
      c.layers[static_cast<size_t>(l)] = shapes[static_cast<size_t>(l)];
      continue;
    }
    // Resident: the working tensors; streamed: an upload, gathered on the device and kept as
    // new host tensors.
    GISP_ASSIGN_OR_RETURN(LayerWeights w, DeviceLayer(l));
    if (!KeepsAll(k.heads, now.n_heads)) {
      GISP_ASSIGN_OR_RETURN(const IndexList q, be->UploadIndices(Expand(k.heads, c.head_dim),
                                                                 now.n_heads * c.head_dim));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.q_proj, q));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.q_bias, q));
      GISP_RETURN_IF_ERROR(GatherColsOf(be, &w.o_proj, q));
    }
    if (!KeepsAll(k.kv_heads, now.n_kv_heads)) {
      GISP_ASSIGN_OR_RETURN(const IndexList kv, be->UploadIndices(Expand(k.kv_heads, c.head_dim),
                                                                  now.n_kv_heads * c.head_dim));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.k_proj, kv));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.k_bias, kv));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.v_proj, kv));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.v_bias, kv));
    }
    if (!KeepsAll(k.channels, now.intermediate)) {
      GISP_ASSIGN_OR_RETURN(const IndexList ch,
                            be->UploadIndices(Expand(k.channels, 1), now.intermediate));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.gate_proj, ch));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.up_proj, ch));
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.gate_bias, ch));  // no-ops without mlp_bias
      GISP_RETURN_IF_ERROR(GatherRowsOf(be, &w.up_bias, ch));
      GISP_RETURN_IF_ERROR(GatherColsOf(be, &w.down_proj, ch));
    }
    GISP_RETURN_IF_ERROR(StoreLayer(l, w));
    c.layers[static_cast<size_t>(l)] = shapes[static_cast<size_t>(l)];
  }
  config_ = std::move(c);
  return BuildKvMaps();
}

}  // namespace gisp
