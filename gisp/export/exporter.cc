#include "gisp/export/exporter.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "gisp/export/decilm_export.h"
#include "gisp/export/gguf_export.h"
#include "gisp/export/output_dir.h"
#include "gisp/export/uniform.h"

namespace gisp {
namespace {

// Tokenizer and generation files copied next to an HF-style export so it deploys as is.
constexpr const char* kSideFiles[] = {"tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                                      "special_tokens_map.json", "generation_config.json"};

}  // namespace

absl::Status CopySideFiles(const std::string& from, const std::string& to) {
  if (from.empty()) return absl::OkStatus();
  for (const char* name : kSideFiles) {
    const std::string src = JoinPath(from, name);
    if (!FileExists(src)) continue;
    GISP_ASSIGN_OR_RETURN(std::string bytes, ReadFile(src));
    GISP_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(to, name), bytes));
  }
  return absl::OkStatus();
}

absl::string_view ExportFormatName(ExportFormat format) {
  switch (format) {
    case ExportFormat::kSliced:
      return "sliced";
    case ExportFormat::kLlama:
      return "llama";
    case ExportFormat::kGguf:
      return "gguf";
    case ExportFormat::kDecilm:
      return "decilm";
  }
  return "?";
}

absl::StatusOr<ExportFormat> ParseExportFormat(absl::string_view name) {
  for (ExportFormat f :
       {ExportFormat::kSliced, ExportFormat::kLlama, ExportFormat::kGguf, ExportFormat::kDecilm}) {
    if (name == ExportFormatName(f)) return f;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown export format \"", name,
                                                 "\"; gisp writes sliced, llama, gguf and decilm"));
}

absl::StatusOr<ExportResult> ExportModel(ExportFormat format, const std::string& dir,
                                         const SlicedModel& model, DType storage_dtype,
                                         const std::string& tokenizer_dir) {
  if (storage_dtype != DType::kF32 && storage_dtype != DType::kBF16 &&
      storage_dtype != DType::kF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("export dtype must be f32, bf16 or f16, got ", DTypeName(storage_dtype)));
  }
  ExportResult result;
  result.exact_parameters = model.config.TotalParameters();
  result.parameters = result.exact_parameters;
  switch (format) {
    case ExportFormat::kSliced:
      GISP_RETURN_IF_ERROR(WriteDirectoryAtomically(dir, [&](const std::string& staging) {
        GISP_RETURN_IF_ERROR(ExportSlicedModel(staging, model, storage_dtype));
        return CopySideFiles(tokenizer_dir, staging);
      }));
      return result;
    case ExportFormat::kLlama: {
      // Validate and build before anything is written.
      GISP_ASSIGN_OR_RETURN(UniformModel uniform, MakeUniform(model));
      result.parameters = uniform.padded_parameters;
      GISP_RETURN_IF_ERROR(WriteDirectoryAtomically(dir, [&](const std::string& staging) {
        GISP_RETURN_IF_ERROR(ExportUniformModel(staging, uniform, storage_dtype));
        return CopySideFiles(tokenizer_dir, staging);
      }));
      return result;
    }
    case ExportFormat::kGguf: {
      GISP_RETURN_IF_ERROR(WriteDirectoryAtomically(dir, [&](const std::string& staging) {
        GISP_ASSIGN_OR_RETURN(GgufExportInfo info, ExportGguf(JoinPath(staging, kGgufFileName),
                                                              model, storage_dtype, tokenizer_dir));
        result.parameters = info.parameters;
        return absl::OkStatus();
      }));
      return result;
    }
    case ExportFormat::kDecilm: {
      GISP_ASSIGN_OR_RETURN(DecilmModel decilm, MakeDecilm(model));
      result.parameters = decilm.parameters;
      GISP_RETURN_IF_ERROR(WriteDirectoryAtomically(dir, [&](const std::string& staging) {
        GISP_RETURN_IF_ERROR(WriteDecilm(staging, decilm, storage_dtype));
        return CopySideFiles(tokenizer_dir, staging);
      }));
      return result;
    }
  }
  return absl::InvalidArgumentError("unknown export format");
}

}  // namespace gisp
