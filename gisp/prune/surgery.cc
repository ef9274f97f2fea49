#include "gisp/prune/surgery.h"

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

// The dense ids in [0, n) that `kept` (sorted) does not hold.
std::vector<int32_t> Complement(int64_t n, const std::vector<int32_t>& kept) {
  std::vector<bool> keep(static_cast<size_t>(n), false);
  for (int32_t id : kept) keep[id] = true;
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i) {
    if (!keep[i]) ids.push_back(static_cast<int32_t>(i));
  }
  return ids;
}

}  // namespace

absl::Status MaskModel(LlamaModel* model, const KeptStructure& kept) {
  const LlamaConfig& c = model->config();
  std::vector<LayerPositions> zero(static_cast<size_t>(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    LayerPositions& z = zero[static_cast<size_t>(l)];
    z.heads = Complement(c.num_heads, kept.heads[l]);
    z.kv_heads = Complement(c.num_kv_heads, kept.kv_heads[l]);
    z.channels = Complement(c.intermediate_size, kept.channels[l]);
  }
  return model->ZeroPositions(zero);
}

absl::Status CompactModel(LlamaModel* model, const KeptStructure& current,
                          const KeptStructure& next) {
  const int64_t layers = model->config().num_layers;
  std::vector<LayerPositions> keep(static_cast<size_t>(layers));
  for (int64_t l = 0; l < layers; ++l) {
    LayerPositions& k = keep[static_cast<size_t>(l)];
    k.heads = ExpandPositions(current.heads[l], next.heads[l], 1);
    k.kv_heads = ExpandPositions(current.kv_heads[l], next.kv_heads[l], 1);
    k.channels = ExpandPositions(current.channels[l], next.channels[l], 1);
  }
  return model->ApplyLayout(keep, next.shapes);
}

}  // namespace gisp
