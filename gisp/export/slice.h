// Materializing a subnetwork from the dense checkpoint and a record, with no gradient pass:
// the units pruned at or before a step are dropped from the original weights (kept in their
// storage dtype, bit for bit), and the config gets the per-layer widths and KV maps.
#ifndef GISP_EXPORT_SLICE_H_
#define GISP_EXPORT_SLICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "gisp/model/config.h"
#include "gisp/model/weights.h"
#include "gisp/proto/gisp.pb.h"

namespace gisp {

struct SlicedModel {
  LlamaConfig config;    // per-layer shapes filled in
  LlamaWeights weights;  // host tensors in the source dtype
};

// `dense_weights`: host tensors of the original model (any storage dtype). Verifies the record
// belongs to this model (fingerprint) and that `step` is a completed step.
absl::StatusOr<SlicedModel> SliceModel(const LlamaConfig& dense, const LlamaWeights& dense_weights,
                                       const proto::Record& record, int32_t step);

// Writes the sliced model as an HF-style directory: config.json with `per_layer_config`
// (num_attention_heads, num_key_value_heads, kv_map, intermediate_size per layer) plus the
// weights in `storage_dtype` (kF32/kBF16/kF16; the source dtype keeps weights bit-exact).
absl::Status ExportSlicedModel(const std::string& dir, const SlicedModel& model,
                               DType storage_dtype, int64_t max_shard_bytes = 0);

}  // namespace gisp

#endif  // GISP_EXPORT_SLICE_H_
