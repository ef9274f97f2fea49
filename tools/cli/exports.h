// --export for the CLI: parsing the format list and writing one target's exports through the C
// API (gisp_model_export_format), one directory per format: <base>/<format>/.
#ifndef GISP_TOOLS_CLI_EXPORTS_H_
#define GISP_TOOLS_CLI_EXPORTS_H_

#include <string>
#include <vector>

#include "c_api/gisp.h"
#include "gisp/proto/gisp.pb.h"
#include "tools/cli/handles.h"
#include "tools/cli/paths.h"

namespace gisp_cli {

struct ExportChoice {
  std::string name;  // sliced, llama, gguf, decilm
  gisp_export_format format;
};

// "llama,gguf" -> choices (order kept, duplicates dropped). "" on success, else the message.
std::string ParseExportList(const std::string& list, std::vector<ExportChoice>* out);
// --dtype: auto | f32 | bf16 | f16. "" on success.
std::string ParseDtype(const std::string& name, gisp_dtype* out);

// Writes `model` in every format under `base`/<format>. With `replace`, an existing
// <base>/<format> directory is removed first (the prune CLI owns its --out); without, a
// non-empty one is an error from gisp. Appends one result per format written, its directory as
// the user gave `base`, and the absolute directory to `written`.
Status ExportAll(const gisp_model* model, const UserPath& base,
                 const std::vector<ExportChoice>& formats, gisp_dtype dtype, bool replace,
                 google::protobuf::RepeatedPtrField<gisp::proto::ExportResult>* results,
                 std::vector<std::string>* written);

// An error naming the first <base>/<format> (as given) that exists and is not an empty
// directory, or "".
std::string CheckExportDirsFree(const UserPath& base, const std::vector<ExportChoice>& formats);

}  // namespace gisp_cli

#endif  // GISP_TOOLS_CLI_EXPORTS_H_
