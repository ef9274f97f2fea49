#include "gisp/io/tokenizer/tokenizer.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "gisp/io/tokenizer/bpe_tokenizer.h"
#include "gisp/io/tokenizer/sentencepiece_tokenizer.h"
#include "gisp/io/tokenizer/tokenizer_config.h"

namespace gisp {

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& model_dir) {
  if (!IsDirectory(model_dir)) {
    return absl::NotFoundError(absl::StrCat(model_dir, ": no such model directory"));
  }
  const std::string sp = JoinPath(model_dir, "tokenizer.model");
  if (FileExists(sp)) return LoadSentencePiece(sp);
  const std::string hf = JoinPath(model_dir, "tokenizer.json");
  if (FileExists(hf)) return LoadHfJson(hf);
  return absl::NotFoundError(
      absl::StrCat(model_dir, ": no tokenizer (expected tokenizer.model or tokenizer.json)"));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadSentencePiece(const std::string& path) {
  if (!FileExists(path)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  GISP_ASSIGN_OR_RETURN(TokenizerConfig config, ReadTokenizerConfig(DirectoryOf(path)));
  return NewSentencePieceTokenizer(path, config);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadHfJson(const std::string& path) {
  if (!FileExists(path)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  GISP_ASSIGN_OR_RETURN(TokenizerConfig config, ReadTokenizerConfig(DirectoryOf(path)));
  return NewBpeTokenizer(path, config);
}

}  // namespace gisp
