#include "gisp/io/tokenizer/tokenizer_config.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// A special token is written as its content, as null, or as an AddedToken object.
absl::StatusOr<std::optional<std::string>> TokenName(const Json& config, const char* key,
                                                     const std::string& path) {
  const Json* v = config.Find(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(v->string_value());
  if (v->is_object()) {
    const Json* content = v->Find("content");
    if (content != nullptr && content->is_string()) {
      return std::optional<std::string>(content->string_value());
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": field \"", key,
                                                 "\" must be a string, null or an object with "
                                                 "\"content\", got ",
                                                 v->Dump()));
}

absl::StatusOr<std::optional<bool>> OptionalBool(const Json& config, const char* key,
                                                 const std::string& path) {
  const Json* v = config.Find(key);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": field \"", key, "\" must be true or false, got ", v->Dump()));
  }
  return std::optional<bool>(v->bool_value());
}

}  // namespace

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::StatusOr<TokenizerConfig> ReadTokenizerConfig(const std::string& dir) {
  TokenizerConfig config;
  const std::string path = JoinPath(dir, "tokenizer_config.json");
  if (!FileExists(path)) return config;
  config.path = path;
  GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  GISP_ASSIGN_OR_RETURN(Json json, ParseJson(text, path));
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": expected a JSON object"));
  }
  GISP_ASSIGN_OR_RETURN(config.add_bos_token, OptionalBool(json, "add_bos_token", path));
  GISP_ASSIGN_OR_RETURN(config.add_eos_token, OptionalBool(json, "add_eos_token", path));
  GISP_ASSIGN_OR_RETURN(config.bos_token, TokenName(json, "bos_token", path));
  GISP_ASSIGN_OR_RETURN(config.eos_token, TokenName(json, "eos_token", path));
  return config;
}

}  // namespace gisp
