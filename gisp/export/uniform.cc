#include "gisp/export/uniform.h"

#include <algorithm>
#include <limits>

#include "gisp/base/status.h"
#include "gisp/export/padded_layer.h"
#include "gisp/export/regroup.h"
#include "gisp/io/checkpoint.h"

namespace gisp {
namespace {

struct UniformShape {
  int64_t group = 1;
  int64_t kv_heads = 1;
  int64_t params = std::numeric_limits<int64_t>::max();  // attention parameters, all layers
};

// The uniform group size and KV head count with the fewest attention parameters.
UniformShape ChooseShape(const LlamaConfig& c) {
  int64_t max_group = 1;
  for (const LayerShape& s : c.layers) max_group = std::max(max_group, MaxGroup(s));
  const int64_t per_head = 2 * c.head_dim * c.hidden_size + (c.HasQkvBias() ? c.head_dim : 0);
  UniformShape best;
  for (int64_t g = 1; g <= max_group; ++g) {
    int64_t kv = 1;  // at least one head: a layer of zero heads still needs a shape
    for (const LayerShape& s : c.layers) kv = std::max(kv, KvSlots(s, g));
    // K and V per KV head, Q and O per query head.
    const int64_t params = c.num_layers * (kv * per_head + kv * g * per_head);
    // Ties go to the larger group: fewer duplicated K/V heads for the same size.
    if (params <= best.params) best = {g, kv, params};
  }
  return best;
}

}  // namespace

absl::StatusOr<UniformModel> MakeUniform(const SlicedModel& sliced) {
  const LlamaConfig& c = sliced.config;
  GISP_RETURN_IF_ERROR(c.Validate());
  const UniformShape shape = ChooseShape(c);
  int64_t f = 1;
  for (const LayerShape& s : c.layers) f = std::max(f, s.intermediate);

  UniformModel out;
  out.group = shape.group;
  out.config = c;
  out.config.num_kv_heads = shape.kv_heads;
  out.config.num_heads = shape.kv_heads * shape.group;
  out.config.intermediate_size = f;
  out.config.FillDenseLayers();
  out.weights = sliced.weights;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const size_t i = static_cast<size_t>(l);
    const GroupedLayout layout = GroupLayer(c.layers[i], shape.group, shape.kv_heads);
    GISP_ASSIGN_OR_RETURN(out.weights.layers[i],
                          PadLayer(sliced.weights.layers[i], c.head_dim, layout, f));
  }
  GISP_RETURN_IF_ERROR(out.config.Validate());
  out.padded_parameters = out.config.TotalParameters();
  out.exact_parameters = c.TotalParameters();
  return out;
}

absl::Status ExportUniformModel(const std::string& dir, const UniformModel& model,
                                DType storage_dtype) {
  LlamaConfig config = model.config;
  config.torch_dtype = storage_dtype;
  return SaveCheckpoint(dir, config, model.weights, storage_dtype);
}

}  // namespace gisp
