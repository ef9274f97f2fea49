// Loading and saving whole HF Llama-family checkpoints: config.json + safetensors (single file or
// sharded).
#ifndef GISP_IO_CHECKPOINT_H_
#define GISP_IO_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gisp/base/dtype.h"
#include "gisp/io/safetensors.h"
#include "gisp/model/config.h"
#include "gisp/model/weights.h"

namespace gisp {

struct Checkpoint {
  LlamaConfig config;    // torch_dtype is set to the storage dtype actually found
  LlamaWeights weights;  // host tensors, all in the storage dtype; read-only when views
  // Keeps the mappings open (each view also holds its file; this is for callers that want the
  // raw archive, e.g. to read extra tensors).
  std::shared_ptr<SafetensorsArchive> archive;
};

// Loads `model_dir`: config.json, then every tensor of ParameterSpecs(config) as a host view of
// the memory-mapped safetensors (no copy when the tensor is aligned, see safetensors.h).
//
// The storage dtype is the dtype of model.embed_tokens.weight; a floating-point tensor stored in
// another dtype (some checkpoints keep norms in f32) is converted into a copy in the storage
// dtype, so every weight has one dtype.
//
// Errors name the file, the tensor and the config.json field involved: a missing tensor, a shape
// that disagrees with config.json (expected vs actual, with the fields that imply it), a
// non-floating tensor, and any unknown "model.layers.*" tensor. Ignored: "*.rotary_emb.inv_freq"
// buffers, lm_head.weight when tie_word_embeddings is true (as transformers does), and names
// outside "model.layers." that gisp does not use.
absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& model_dir);

// Writes config.json and the weights (in ParameterSpecs order, converted to `storage_dtype`:
// f32, bf16 or f16, chunk by chunk) into `model_dir`, creating it if needed. One
// model.safetensors, or HF-named shards plus model.safetensors.index.json when
// `max_shard_bytes` > 0 and the weights exceed it.
//
// Atomic per file and all-or-nothing before the renames: everything is written under temporary
// names first, then renamed (weights, then index, then config.json). Afterwards, stale weight
// files of the other layout that would shadow or confuse the new one (an old model.safetensors, an
// old index and the shards it listed) are removed; other files in the directory are untouched.
absl::Status SaveCheckpoint(const std::string& model_dir, const LlamaConfig& config,
                            const LlamaWeights& host_weights, DType storage_dtype,
                            int64_t max_shard_bytes = 0);

}  // namespace gisp

#endif  // GISP_IO_CHECKPOINT_H_
