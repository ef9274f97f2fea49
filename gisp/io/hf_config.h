// HF config.json <-> LlamaConfig for the Llama family gisp supports: Llama (1/2/3.x), Mistral
// (full attention) and Qwen2.
//
// Anything that would change the math gisp implements is refused with an error naming the field
// and value, rather than silently computing something else: other architectures, rope_scaling
// types other than linear / llama3, an active sliding window, activations other than
// silu, quantized checkpoints.
//
// Pruned (sliced) models are gisp's own format: model_type "gisp_sliced", the family in
// "gisp_base_model_type", and a "gisp_per_layer_config" array, one object per layer:
//   {"num_attention_heads": h, "num_key_value_heads": kv, "kv_map": [h ints],
//    "intermediate_size": f}
// (the top-level head counts and intermediate_size stay the dense ones). The unknown model type
// makes stock loaders refuse such a directory rather than load wrong weights. Directories
// written by gisp <= 0.1 (family model_type plus "per_layer_config") are still read; that key is
// never written (transformers 5 reserves it with another meaning).
#ifndef GISP_IO_HF_CONFIG_H_
#define GISP_IO_HF_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/base/json.h"
#include "gisp/model/config.h"

namespace gisp {

inline constexpr char kGispSlicedModelType[] = "gisp_sliced";
inline constexpr char kGispSlicedArchitecture[] = "GispSlicedForCausalLM";
inline constexpr char kGispBaseModelTypeKey[] = "gisp_base_model_type";
inline constexpr char kGispPerLayerKey[] = "gisp_per_layer_config";
inline constexpr char kGispSlicedNote[] =
    "gisp's exact pruned format (per-layer widths), loaded by gisp only; export it with "
    "--export llama, gguf or decilm for transformers, llama.cpp, vLLM or TensorRT-LLM";

// Parses a config.json document. `source` names it in errors ("/models/x/config.json").
// Errors: InvalidArgument for malformed or inconsistent values, Unimplemented for well-formed
// features gisp does not support. The result has passed LlamaConfig::Validate().
absl::StatusOr<LlamaConfig> ParseLlamaConfig(const Json& json, absl::string_view source);

// Reads and parses `<model_dir>/config.json`.
absl::StatusOr<LlamaConfig> LoadLlamaConfig(const std::string& model_dir);

// An HF config.json for `config` when every layer is dense (transformers loads it); gisp's
// sliced format (see above) otherwise. ParseLlamaConfig(LlamaConfigToJson(c))
// gives back `c`.
Json LlamaConfigToJson(const LlamaConfig& config);

// "float32" / "bfloat16" / "float16" as written in config.json's torch_dtype.
absl::string_view TorchDtypeName(DType dtype);

}  // namespace gisp

#endif  // GISP_IO_HF_CONFIG_H_
