#include "gisp/io/tokenizer/tokenizer.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"
#include "gisp/io/tokenizer/bpe_tokenizer.h"
#include "gisp/io/tokenizer/sentencepiece_tokenizer.h"

namespace gisp {
namespace {

// add_bos_token / add_eos_token from tokenizer_config.json (Llama defaults when absent).
absl::StatusOr<SpecialTokenPolicy> ReadPolicy(const std::string& dir) {
  SpecialTokenPolicy policy;
  const std::string path = JoinPath(dir, "tokenizer_config.json");
  if (!FileExists(path)) return policy;
  GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  GISP_ASSIGN_OR_RETURN(Json json, ParseJson(text, path));
  GISP_ASSIGN_OR_RETURN(policy.add_bos, JsonGetBoolOr(json, "add_bos_token", true, path));
  GISP_ASSIGN_OR_RETURN(policy.add_eos, JsonGetBoolOr(json, "add_eos_token", false, path));
  return policy;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& model_dir) {
  const std::string sp = JoinPath(model_dir, "tokenizer.model");
  const std::string hf = JoinPath(model_dir, "tokenizer.json");
  if (FileExists(sp)) {
    GISP_ASSIGN_OR_RETURN(SpecialTokenPolicy policy, ReadPolicy(model_dir));
    return NewSentencePieceTokenizer(sp, policy);
  }
  if (FileExists(hf)) return LoadHfJson(hf);
  return absl::NotFoundError(absl::StrCat(model_dir,
                                          ": no tokenizer (expected tokenizer.model or "
                                          "tokenizer.json)"));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadSentencePiece(const std::string& path) {
  if (!FileExists(path)) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
  return NewSentencePieceTokenizer(path, SpecialTokenPolicy());
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadHfJson(const std::string& path) {
  return NewBpeTokenizer(path);
}

}  // namespace gisp
