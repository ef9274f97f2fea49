// The `decilm` export: DeciLM / Nemotron-NAS (`DeciLMForCausalLM`, model_type "nemotron-nas"),
// the heterogeneous-layer Llama that vLLM (models/nemotron_nas.py) and TensorRT-LLM load.
//
// Its config.json states per layer, in `block_configs`:
//   attention: {"no_op": true} or {"n_heads_in_group": G}: every attention layer has the
//     model's num_attention_heads H query heads and H / G KV heads;
//   ffn: {"no_op": true} or {"ffn_mult": m, "intermediate_size": F}: vLLM and the reference
//     code size the MLP as find_multiple(int(2 m D / 3), 256), so F is a multiple of 256.
// gisp maps a pruned model onto that exactly: a layer without query heads (or without MLP
// channels) is a no-op block; otherwise its heads are regrouped (regroup.h) into H query slots
// of G per KV head, zero heads filling the rest, with G per layer chosen for the fewest
// parameters; MLP widths are zero-padded up to the next multiple of 256. H is
// hidden_size / head_dim (TensorRT-LLM's engine flow derives the head size as hidden_size / H
// and ignores head_dim); only a source where that does not fit gets the fewest-parameter H.
// Tied embeddings are also written as lm_head.weight, which TensorRT-LLM's engine flow always
// loads. Attention biases (Qwen2) are refused: DeciLM's loaders tie them to an o_proj bias
// gisp does not have.
//
// transformers has no "nemotron-nas" config type, and vLLM and TensorRT-LLM read config.json
// through transformers.AutoConfig and then read block_configs[i].attention.no_op etc. as
// attributes. So the directory also holds gisp's own configuration_decilm.py (the source file
// gisp/export/configuration_decilm.py, compiled in), a PretrainedConfig subclass that turns
// block_configs into objects, and config.json names it in "auto_map"; loaders need
// trust_remote_code=True to run it.
#ifndef GISP_EXPORT_DECILM_EXPORT_H_
#define GISP_EXPORT_DECILM_EXPORT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "gisp/base/json.h"
#include "gisp/export/slice.h"

namespace gisp {

struct DecilmModel {
  Json config;           // config.json
  LlamaConfig shape;     // the written widths (0 heads / channels for no-op blocks)
  LlamaWeights weights;  // padded host tensors; empty for no-op blocks
  int64_t parameters = 0;
};

// Plans and pads `sliced` (see above). InvalidArgument when the model cannot be expressed.
absl::StatusOr<DecilmModel> MakeDecilm(const SlicedModel& sliced);

// The Python configuration written next to config.json, and config.json's auto_map entry for it.
inline constexpr char kDecilmConfigurationFileName[] = "configuration_decilm.py";
inline constexpr char kDecilmAutoConfigClass[] = "configuration_decilm.DeciLMConfig";
absl::string_view DecilmConfigurationSource();

// Writes config.json, configuration_decilm.py and model.safetensors (weights in
// `storage_dtype`) into `dir`, all of them or none.
absl::Status WriteDecilm(const std::string& dir, const DecilmModel& model, DType storage_dtype);

// The multiple of 256 DeciLM's loaders derive from ffn_mult (vLLM's
// _ffn_mult_to_intermediate_size), and the ffn_mult gisp writes for a padded width `f`.
int64_t DecilmIntermediateSize(double ffn_mult, int64_t hidden);
double DecilmFfnMult(int64_t padded_intermediate, int64_t hidden);

}  // namespace gisp

#endif  // GISP_EXPORT_DECILM_EXPORT_H_
