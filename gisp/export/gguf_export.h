// The `gguf` export for llama.cpp. Architecture `deci` (llama.cpp's loader for DeciLM /
// Nemotron-NAS) with per-layer arrays `deci.attention.head_count`, `.head_count_kv` and
// `deci.feed_forward_length` when layers differ; plain `llama` (`qwen2` for Qwen2) when every
// layer has the same shape. The tokenizer (SentencePiece `llama` or byte-level BPE `gpt2`) is
// embedded so llama.cpp tokenizes as gisp does.
//
// How llama.cpp reads `deci` layers (src/models/deci.cpp) decides the representation:
//   * a layer with head_count 0 has no attention (the residual passes through), so all-pruned
//     attention is written as head_count = head_count_kv = 0 without attention tensors;
//   * head_count must be a multiple of head_count_kv: layers with uneven GQA groups are
//     regrouped exactly (regroup.h) with the per-layer group size of fewest parameters;
//   * a layer with feed_forward_length 0 is skipped whole (its attention too), so a layer that
//     keeps attention but no MLP channel gets one zero channel; a layer with neither is 0/0;
//   * the head size comes from layer 0's head count, so layer 0 keeps at least one (zero)
//     head.
// Q and K rows are permuted per head from HF's rotate-half RoPE layout to the interleaved one
// llama.cpp's `llama`/`deci` graphs use (not for `qwen2`, which uses the HF layout).
#ifndef GISP_EXPORT_GGUF_EXPORT_H_
#define GISP_EXPORT_GGUF_EXPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "gisp/export/slice.h"

namespace gisp {

struct GgufExportInfo {
  std::string architecture;  // "deci", "llama" or "qwen2"
  int64_t parameters = 0;    // written (zero heads / channels included, tied lm_head once)
};

// Writes `model` to `path` (one .gguf file, atomically) with weights in `storage_dtype` (f32,
// f16 or bf16; norms stay f32) and the tokenizer found in `tokenizer_dir`.
absl::StatusOr<GgufExportInfo> ExportGguf(const std::string& path, const SlicedModel& model,
                                          DType storage_dtype, const std::string& tokenizer_dir);

}  // namespace gisp

#endif  // GISP_EXPORT_GGUF_EXPORT_H_
