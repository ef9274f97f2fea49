#include "tools/cli/exports.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/cli/paths.h"

namespace gisp_cli {

std::string ParseExportList(const std::string& list, std::vector<ExportChoice>* out) {
  static const ExportChoice kAll[] = {{"sliced", GISP_EXPORT_SLICED},
                                      {"llama", GISP_EXPORT_LLAMA},
                                      {"gguf", GISP_EXPORT_GGUF},
                                      {"decilm", GISP_EXPORT_DECILM}};
  out->clear();
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    const ExportChoice* found = nullptr;
    for (const ExportChoice& c : kAll) {
      if (part == c.name) found = &c;
    }
    if (found == nullptr) {
      return absl::StrCat("--export: unknown format \"", part,
                          "\"; choose from sliced, llama, gguf, decilm");
    }
    bool seen = false;
    for (const ExportChoice& c : *out) seen = seen || c.format == found->format;
    if (!seen) out->push_back(*found);
  }
  return "";
}

std::string ParseDtype(const std::string& name, gisp_dtype* out) {
  if (name == "auto") {
    *out = GISP_DTYPE_AUTO;
  } else if (name == "f32") {
    *out = GISP_DTYPE_F32;
  } else if (name == "bf16") {
    *out = GISP_DTYPE_BF16;
  } else if (name == "f16") {
    *out = GISP_DTYPE_F16;
  } else {
    return absl::StrCat("--dtype must be auto, f32, bf16 or f16, got \"", name, "\"");
  }
  return "";
}

std::string CheckExportDirsFree(const UserPath& base, const std::vector<ExportChoice>& formats) {
  for (const ExportChoice& f : formats) {
    const UserPath dir = base.Child(f.name);
    std::error_code ec;
    if (!std::filesystem::exists(dir.path, ec)) continue;
    if (!std::filesystem::is_directory(dir.path, ec) || !std::filesystem::is_empty(dir.path, ec)) {
      return absl::StrCat(dir.given,
                          " exists and is not empty; gisp exports only into new or empty "
                          "directories (choose another --out or remove it)");
    }
  }
  return "";
}

Status ExportAll(const gisp_model* model, const UserPath& base,
                 const std::vector<ExportChoice>& formats, gisp_dtype dtype, bool replace,
                 google::protobuf::RepeatedPtrField<gisp::proto::ExportResult>* results,
                 std::vector<std::string>* written) {
  for (const ExportChoice& f : formats) {
    const UserPath dir = base.Child(f.name);
    if (replace) {
      std::error_code ec;
      std::filesystem::remove_all(dir.path, ec);
      if (ec) {
        return Status(GISP_PERMISSION_DENIED, absl::StrCat("cannot remove the previous export ",
                                                           dir.given, ": ", ec.message()));
      }
    }
    int64_t parameters = 0, exact = 0;
    Status s =
        gisp_model_export_format(model, f.format, dir.path.c_str(), dtype, &parameters, &exact);
    if (!s.ok()) {
      return Status(s.code(), absl::StrCat("--export ", f.name, ": ", s.message()));
    }
    gisp::proto::ExportResult* r = results->Add();
    r->set_format(f.name);
    r->set_dir(dir.given);
    r->set_parameters(parameters);
    r->set_exact_parameters(exact);
    written->push_back(dir.path);
  }
  return Status();
}

}  // namespace gisp_cli
