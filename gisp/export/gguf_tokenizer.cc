#include "gisp/export/gguf_tokenizer.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"
#include "gisp/io/tokenizer/hf_tokenizer_json.h"
#include "gisp/io/tokenizer/sentencepiece_model.h"
#include "gisp/io/tokenizer/tokenizer.h"

namespace gisp {
namespace {

// llama.cpp's token types (LLAMA_TOKEN_TYPE_*), the same numbers as SentencePiece's.
constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

// Pads the vocabulary to the embedding's rows (llama.cpp takes n_vocab from the token list).
absl::Status Pad(int64_t vocab_size, std::vector<std::string>* tokens, std::vector<int32_t>* types,
                 std::vector<float>* scores) {
  if (static_cast<int64_t>(tokens->size()) > vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("the tokenizer has ", tokens->size(),
                                                   " tokens but the model's vocab_size is ",
                                                   vocab_size));
  }
  for (int64_t i = static_cast<int64_t>(tokens->size()); i < vocab_size; ++i) {
    tokens->push_back(absl::StrCat("[PAD", i, "]"));
    types->push_back(kUnused);
    if (scores != nullptr) scores->push_back(0.0f);
  }
  return absl::OkStatus();
}

const char* PreTokenizerName(SplitPattern p) {
  switch (p) {
    case SplitPattern::kLlama3:
      return "llama-bpe";
    case SplitPattern::kQwen2:
      return "qwen2";
    case SplitPattern::kGpt2:
      break;
  }
  return "gpt-2";
}

}  // namespace

absl::Status AddGgufTokenizer(const std::string& model_dir, int64_t vocab_size, GgufWriter* w) {
  GISP_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, Tokenizer::Load(model_dir));
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  const std::string spm_path = JoinPath(model_dir, "tokenizer.model");
  if (tok->kind() == "sentencepiece") {
    GISP_ASSIGN_OR_RETURN(std::string data, ReadFile(spm_path));
    GISP_ASSIGN_OR_RETURN(SentencePieceModel spm, ParseSentencePieceModel(data, spm_path));
    std::vector<float> scores;
    int32_t unk = -1;
    for (size_t i = 0; i < spm.pieces.size(); ++i) {
      const SentencePieceModel::Piece& p = spm.pieces[i];
      tokens.push_back(p.text);
      scores.push_back(p.score);
      types.push_back(p.type);
      if (p.type == SentencePieceModel::kUnknown && unk < 0) unk = static_cast<int32_t>(i);
    }
    GISP_RETURN_IF_ERROR(Pad(vocab_size, &tokens, &types, &scores));
    w->AddString("tokenizer.ggml.model", "llama");
    w->AddStringArray("tokenizer.ggml.tokens", tokens);
    w->AddF32Array("tokenizer.ggml.scores", scores);
    w->AddI32Array("tokenizer.ggml.token_type", types);
    w->AddBool("tokenizer.ggml.add_space_prefix", spm.add_dummy_prefix);
    if (unk >= 0) w->AddU32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(unk));
  } else {
    const std::string path = JoinPath(model_dir, "tokenizer.json");
    GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    GISP_ASSIGN_OR_RETURN(Json root, ParseJson(text, path));
    GISP_ASSIGN_OR_RETURN(HfTokenizerSpec spec, ParseHfTokenizerJson(root, path));
    int32_t n = 0;
    for (const auto& [piece, id] : spec.model.vocab) n = std::max(n, id + 1);
    for (const AddedToken& t : spec.added_tokens) n = std::max(n, t.id + 1);
    tokens.assign(static_cast<size_t>(n), "");
    types.assign(static_cast<size_t>(n), kUnused);
    for (const auto& [piece, id] : spec.model.vocab) {
      tokens[static_cast<size_t>(id)] = piece;
      types[static_cast<size_t>(id)] = kNormal;
    }
    for (const AddedToken& t : spec.added_tokens) {
      tokens[static_cast<size_t>(t.id)] = t.content;
      types[static_cast<size_t>(t.id)] = t.special ? kControl : kUserDefined;
    }
    for (int32_t i = 0; i < n; ++i) {
      if (tokens[static_cast<size_t>(i)].empty())
        tokens[static_cast<size_t>(i)] = absl::StrCat("[PAD", i, "]");
    }
    GISP_RETURN_IF_ERROR(Pad(vocab_size, &tokens, &types, nullptr));
    std::vector<std::string> merges;
    for (const auto& [left, right] : spec.model.merges) merges.push_back(left + " " + right);
    w->AddString("tokenizer.ggml.model", "gpt2");
    w->AddString("tokenizer.ggml.pre", PreTokenizerName(spec.pattern));
    w->AddStringArray("tokenizer.ggml.tokens", tokens);
    w->AddI32Array("tokenizer.ggml.token_type", types);
    w->AddStringArray("tokenizer.ggml.merges", merges);
  }
  // What gisp's tokenizer adds around a text decides llama.cpp's add_bos / add_eos.
  GISP_ASSIGN_OR_RETURN(std::vector<int32_t> plain, tok->Encode("a", false));
  GISP_ASSIGN_OR_RETURN(std::vector<int32_t> special, tok->Encode("a", true));
  const bool add_bos =
      special.size() > plain.size() && tok->bos_id() >= 0 && special.front() == tok->bos_id();
  const bool add_eos =
      special.size() > plain.size() && tok->eos_id() >= 0 && special.back() == tok->eos_id();
  if (tok->bos_id() >= 0)
    w->AddU32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tok->bos_id()));
  if (tok->eos_id() >= 0)
    w->AddU32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tok->eos_id()));
  w->AddBool("tokenizer.ggml.add_bos_token", add_bos);
  w->AddBool("tokenizer.ggml.add_eos_token", add_eos);
  return absl::OkStatus();
}

}  // namespace gisp
