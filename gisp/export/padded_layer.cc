#include "gisp/export/padded_layer.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// out[i*block .. (i+1)*block) rows = in rows of block src[i] (zeros for -1). Works on rank 1
// (biases) and rank 2 (row blocks of a weight) tensors.
absl::StatusOr<Tensor> PlaceRowBlocks(const Tensor& in, const std::vector<int32_t>& src,
                                      int64_t block) {
  Shape shape = in.shape();
  shape[0] = static_cast<int64_t>(src.size()) * block;
  GISP_ASSIGN_OR_RETURN(Tensor out, Tensor::Host(shape, in.dtype()));  // zero-filled
  const size_t row_bytes =
      (in.rank() == 1 ? 1 : static_cast<size_t>(in.dim(1))) * DTypeSize(in.dtype());
  const size_t block_bytes = row_bytes * static_cast<size_t>(block);
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] < 0) continue;
    if ((src[i] + 1) * block > in.dim(0)) {
      return absl::InternalError(absl::StrCat("row block ", src[i], " beyond ", in.dim(0)));
    }
    std::memcpy(static_cast<char*>(out.raw()) + i * block_bytes,
                static_cast<const char*>(in.raw()) + src[i] * block_bytes, block_bytes);
  }
  return out;
}

// The column analogue for [D, n] weights (o_proj, down_proj).
absl::StatusOr<Tensor> PlaceColBlocks(const Tensor& in, const std::vector<int32_t>& src,
                                      int64_t block) {
  const int64_t rows = in.dim(0), cols = in.dim(1);
  const int64_t n = static_cast<int64_t>(src.size()) * block;
  GISP_ASSIGN_OR_RETURN(Tensor out, Tensor::Host({rows, n}, in.dtype()));
  const size_t es = DTypeSize(in.dtype());
  const size_t block_bytes = es * static_cast<size_t>(block);
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] < 0) continue;
    if ((src[i] + 1) * block > cols) {
      return absl::InternalError(absl::StrCat("column block ", src[i], " beyond ", cols));
    }
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(static_cast<char*>(out.raw()) + (r * n + static_cast<int64_t>(i) * block) * es,
                  static_cast<const char*>(in.raw()) + (r * cols + src[i] * block) * es,
                  block_bytes);
    }
  }
  return out;
}

std::vector<int32_t> FirstN(int64_t n, int64_t total) {
  std::vector<int32_t> ids(static_cast<size_t>(total), -1);
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  return ids;
}

}  // namespace

absl::StatusOr<LayerWeights> PadLayer(const LayerWeights& w, int64_t head_dim,
                                      const GroupedLayout& layout, int64_t intermediate) {
  const int64_t f = w.gate_proj.dim(0);
  GISP_CHECK_ARG(intermediate >= f, "cannot pad ", f, " MLP channels to ", intermediate);
  LayerWeights out = w;
  GISP_ASSIGN_OR_RETURN(out.q_proj, PlaceRowBlocks(w.q_proj, layout.q_src, head_dim));
  GISP_ASSIGN_OR_RETURN(out.o_proj, PlaceColBlocks(w.o_proj, layout.q_src, head_dim));
  GISP_ASSIGN_OR_RETURN(out.k_proj, PlaceRowBlocks(w.k_proj, layout.kv_src, head_dim));
  GISP_ASSIGN_OR_RETURN(out.v_proj, PlaceRowBlocks(w.v_proj, layout.kv_src, head_dim));
  if (!w.q_bias.empty()) {
    GISP_ASSIGN_OR_RETURN(out.q_bias, PlaceRowBlocks(w.q_bias, layout.q_src, head_dim));
    GISP_ASSIGN_OR_RETURN(out.k_bias, PlaceRowBlocks(w.k_bias, layout.kv_src, head_dim));
    GISP_ASSIGN_OR_RETURN(out.v_bias, PlaceRowBlocks(w.v_bias, layout.kv_src, head_dim));
  }
  const std::vector<int32_t> channels = FirstN(f, intermediate);
  GISP_ASSIGN_OR_RETURN(out.gate_proj, PlaceRowBlocks(w.gate_proj, channels, 1));
  GISP_ASSIGN_OR_RETURN(out.up_proj, PlaceRowBlocks(w.up_proj, channels, 1));
  if (!w.gate_bias.empty()) {
    GISP_ASSIGN_OR_RETURN(out.gate_bias, PlaceRowBlocks(w.gate_bias, channels, 1));
    GISP_ASSIGN_OR_RETURN(out.up_bias, PlaceRowBlocks(w.up_bias, channels, 1));
  }
  GISP_ASSIGN_OR_RETURN(out.down_proj, PlaceColBlocks(w.down_proj, channels, 1));
  return out;
}

}  // namespace gisp
