// Reading DeciLM / Nemotron-NAS config.json files (gisp's `decilm` export, see
// gisp/export/decilm_export.h) back into a LlamaConfig with per-layer widths, so gisp loads
// the export and can check it reproduces the pruned model.
#ifndef GISP_IO_DECILM_CONFIG_H_
#define GISP_IO_DECILM_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/base/json.h"
#include "gisp/model/config.h"

namespace gisp {

// True for model_type "nemotron-nas" or architectures ["DeciLMForCausalLM"].
bool IsDecilmConfig(const Json& json);

// Per layer: a no-op attention block has 0 heads, otherwise num_attention_heads H query heads
// and H / n_heads_in_group KV heads in the dense grouping; a no-op FFN has 0 channels,
// otherwise ffn_mult's width (find_multiple(int(2 m D / 3), 256), as vLLM computes it) or
// intermediate_size. Blocks gisp does not compute (replace_with_linear, attention windows,
// sinks, an MLP activation other than silu) are refused, naming the layer and field.
absl::StatusOr<LlamaConfig> ParseDecilmConfig(const Json& json, absl::string_view source);

// config.json of `model_dir`, DeciLM or any family LoadLlamaConfig reads.
absl::StatusOr<LlamaConfig> LoadModelConfig(const std::string& model_dir);

}  // namespace gisp

#endif  // GISP_IO_DECILM_CONFIG_H_
