// One entry point for every deployment format of a sliced (or dense) model:
//   sliced  gisp's exact format (gisp_sliced config, per-layer widths; gisp loads it)
//   llama   uniform HF checkpoint of the source family, zero-padded to the widest kept layer
//   gguf    llama.cpp: `deci` with per-layer widths, or plain `llama` when uniform
//   decilm  DeciLM / Nemotron-NAS block_configs (vLLM, TensorRT-LLM)
// Every export is all-or-nothing into a new or empty directory (output_dir.h).
#ifndef GISP_EXPORT_EXPORTER_H_
#define GISP_EXPORT_EXPORTER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/export/slice.h"

namespace gisp {

// The file a `gguf` export writes into its directory.
inline constexpr char kGgufFileName[] = "model.gguf";

enum class ExportFormat { kSliced = 0, kLlama = 1, kGguf = 2, kDecilm = 3 };

// "sliced" / "llama" / "gguf" / "decilm".
absl::string_view ExportFormatName(ExportFormat format);
absl::StatusOr<ExportFormat> ParseExportFormat(absl::string_view name);

struct ExportResult {
  int64_t parameters = 0;        // parameters in the written model (padding included)
  int64_t exact_parameters = 0;  // the sliced model's own count
};

// Copies the tokenizer and generation files (tokenizer.model, tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, generation_config.json) that exist in `from`
// into `to`, each written atomically, so an exported model deploys as is. An empty `from` copies
// nothing.
absl::Status CopySideFiles(const std::string& from, const std::string& to);

// Writes `model` as `format` into `dir` (weights in `storage_dtype`), copying the tokenizer and
// generation files found in `tokenizer_dir` next to HF-style exports.
absl::StatusOr<ExportResult> ExportModel(ExportFormat format, const std::string& dir,
                                         const SlicedModel& model, DType storage_dtype,
                                         const std::string& tokenizer_dir);

}  // namespace gisp

#endif  // GISP_EXPORT_EXPORTER_H_
