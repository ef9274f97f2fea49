// HF config.json <-> LlamaConfig for the Llama family gisp supports: Llama (1/2/3.x), Mistral
// (full attention) and Qwen2.
//
// Anything that would change the math gisp implements is refused with an error naming the field
// and value, rather than silently computing something else: other architectures, rope_scaling
// types other than linear / llama3, mlp_bias, an active sliding window, activations other than
// silu, quantized checkpoints.
//
// Pruned models carry an optional "per_layer_config" array, one object per layer:
//   {"num_attention_heads": h, "num_key_value_heads": kv, "kv_map": [h ints],
//    "intermediate_size": f}
// (the top-level head counts and intermediate_size stay the dense ones).
#ifndef GISP_IO_HF_CONFIG_H_
#define GISP_IO_HF_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/base/json.h"
#include "gisp/model/config.h"

namespace gisp {

// Parses a config.json document. `source` names it in errors ("/models/x/config.json").
// Errors: InvalidArgument for malformed or inconsistent values, Unimplemented for well-formed
// features gisp does not support. The result has passed LlamaConfig::Validate().
absl::StatusOr<LlamaConfig> ParseLlamaConfig(const Json& json, absl::string_view source);

// Reads and parses `<model_dir>/config.json`.
absl::StatusOr<LlamaConfig> LoadLlamaConfig(const std::string& model_dir);

// An HF-compatible config.json for `config` (transformers loads it when every layer is dense);
// "per_layer_config" appears only for non-dense configs. ParseLlamaConfig(LlamaConfigToJson(c))
// gives back `c`.
Json LlamaConfigToJson(const LlamaConfig& config);

// "float32" / "bfloat16" / "float16" as written in config.json's torch_dtype.
absl::string_view TorchDtypeName(DType dtype);

}  // namespace gisp

#endif  // GISP_IO_HF_CONFIG_H_
