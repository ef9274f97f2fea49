// The uniform `llama` export: a pruned model as an ordinary HF checkpoint of its own family
// (Llama, Mistral, Qwen2) that every runtime loads. Every layer is zero-padded only up to the
// widest kept layer (query/KV heads and MLP channels), so the file is smaller than the dense
// model and computes exactly the pruned function; padded heads and channels are zero weights.
#ifndef GISP_EXPORT_UNIFORM_H_
#define GISP_EXPORT_UNIFORM_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "gisp/export/slice.h"

namespace gisp {

struct UniformModel {
  LlamaConfig config;    // every layer has config.num_heads / num_kv_heads / intermediate_size
  LlamaWeights weights;  // host tensors in the sliced model's dtype
  int64_t group = 1;     // query heads per KV head chosen for the uniform GQA layout
  // Parameters of the padded model and of the exact sliced one (gisp's own count).
  int64_t padded_parameters = 0;
  int64_t exact_parameters = 0;
};

// Pads `sliced` to the uniform shape with the fewest parameters over every GQA group size
// (see regroup.h: zero query heads within groups or duplicated K/V heads, mixed by G).
absl::StatusOr<UniformModel> MakeUniform(const SlicedModel& sliced);

// Writes `model` as an HF directory (config.json of the source family, safetensors in
// `storage_dtype`). Tokenizer files are the caller's.
absl::Status ExportUniformModel(const std::string& dir, const UniformModel& model,
                                DType storage_dtype);

}  // namespace gisp

#endif  // GISP_EXPORT_UNIFORM_H_
