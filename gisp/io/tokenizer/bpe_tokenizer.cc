#include "gisp/io/tokenizer/bpe_tokenizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"
#include "gisp/io/tokenizer/added_tokens.h"
#include "gisp/io/tokenizer/bpe_model.h"
#include "gisp/io/tokenizer/byte_level.h"
#include "gisp/io/tokenizer/hf_tokenizer_json.h"
#include "gisp/io/tokenizer/pre_tokenizer.h"
#include "gisp/io/tokenizer/unicode.h"

namespace gisp {
namespace {

class BpeTokenizer final : public Tokenizer {
 public:
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override;
  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(id_to_text_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  std::string kind() const override { return "hf-bpe"; }

 private:
  friend absl::StatusOr<std::unique_ptr<Tokenizer>> BuildTokenizer<BpeTokenizer>(
      const std::string& path, const TokenizerConfig& config);
  absl::Status Init(const std::string& path, const TokenizerConfig& config);

  // Text between added tokens, already normalized.
  void EncodeSegment(absl::string_view text, std::vector<int32_t>* out) const;
  int32_t IdOf(const std::string& content) const;

  BpeModel model_;
  bool nfc_ = false;
  SplitPattern pattern_ = SplitPattern::kGpt2;
  bool add_prefix_space_ = false;
  bool prefix_space_per_word_ = false;
  AddedTokenMatcher raw_added_;         // matched in the input as given
  AddedTokenMatcher normalized_added_;  // matched after normalization
  std::vector<AddedToken> added_;
  std::vector<std::string> id_to_text_;  // what decoding an id yields (before byte mapping)
  std::vector<bool> special_;            // skipped by Decode(skip_special_tokens = true)
  std::vector<int32_t> prefix_, suffix_;
  int32_t bos_ = -1, eos_ = -1;
};

absl::Status BpeTokenizer::Init(const std::string& path, const TokenizerConfig& config) {
  GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  GISP_ASSIGN_OR_RETURN(Json root, ParseJson(text, path));
  GISP_ASSIGN_OR_RETURN(HfTokenizerSpec spec, ParseHfTokenizerJson(root, path));
  nfc_ = spec.nfc;
  pattern_ = spec.pattern;
  add_prefix_space_ = spec.add_prefix_space;
  prefix_space_per_word_ = spec.prefix_space_per_word;
  prefix_ = spec.prefix;
  suffix_ = spec.suffix;
  added_ = spec.added_tokens;
  GISP_RETURN_IF_ERROR(model_.Init(std::move(spec.model), path));

  // Ids: the model's vocabulary, with added tokens on top (their content wins, as in tokenizers).
  // ParseHfTokenizerJson bounds every id by the number of tokens, so size fits int32.
  int64_t size = model_.size();
  for (const AddedToken& a : added_) size = std::max<int64_t>(size, int64_t{a.id} + 1);
  id_to_text_.assign(static_cast<size_t>(size), std::string());
  special_.assign(static_cast<size_t>(size), false);
  for (int32_t id = 0; id < model_.size(); ++id) id_to_text_[id] = model_.IdToToken(id);
  std::vector<AddedToken> raw, normalized;
  std::vector<std::string> raw_patterns, normalized_patterns;
  for (const AddedToken& a : added_) {
    id_to_text_[a.id] = a.content;
    special_[a.id] = a.special;
    if (a.normalized) {
      normalized.push_back(a);
      normalized_patterns.push_back(nfc_ ? unicode::Nfc(a.content) : a.content);
    } else {
      raw.push_back(a);
      raw_patterns.push_back(a.content);
    }
  }
  raw_added_ = AddedTokenMatcher(std::move(raw), std::move(raw_patterns));
  normalized_added_ = AddedTokenMatcher(std::move(normalized), std::move(normalized_patterns));

  // BOS/EOS: named by tokenizer_config.json, else the template's leading token and the usual
  // end-of-text names.
  if (config.bos_token) bos_ = IdOf(*config.bos_token);
  if (config.eos_token) eos_ = IdOf(*config.eos_token);
  if (bos_ < 0 && !config.bos_token && !prefix_.empty()) bos_ = prefix_.front();
  if (eos_ < 0 && !config.eos_token) {
    for (const char* name : {"<|end_of_text|>", "<|endoftext|>", "</s>"}) {
      if (eos_ < 0) eos_ = IdOf(name);
    }
  }
  if (config.add_bos_token.has_value()) {
    if (*config.add_bos_token && bos_ < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          config.path, ": add_bos_token is true but bos_token names no token of ", path));
    }
    prefix_.clear();
    if (*config.add_bos_token) prefix_.push_back(bos_);
  }
  if (config.add_eos_token.has_value()) {
    if (*config.add_eos_token && eos_ < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          config.path, ": add_eos_token is true but eos_token names no token of ", path));
    }
    suffix_.clear();
    if (*config.add_eos_token) suffix_.push_back(eos_);
  }
  return absl::OkStatus();
}

int32_t BpeTokenizer::IdOf(const std::string& content) const {
  for (const AddedToken& a : added_) {
    if (a.content == content) return a.id;
  }
  return model_.TokenToId(content);
}

absl::StatusOr<std::vector<int32_t>> BpeTokenizer::Encode(absl::string_view input,
                                                          bool add_special_tokens) const {
  // Python strings are always valid; bytes that are not UTF-8 become U+FFFD first.
  std::string repaired;
  absl::string_view text = input;
  if (!unicode::IsValidUtf8(input)) {
    repaired = unicode::LossyUtf8(input);
    text = repaired;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + prefix_.size() + suffix_.size() + 1);
  if (add_special_tokens) out.insert(out.end(), prefix_.begin(), prefix_.end());
  for (const AddedTokenMatcher::Piece& piece : raw_added_.Split(text)) {
    if (piece.id >= 0) {
      out.push_back(piece.id);
      continue;
    }
    const absl::string_view raw = text.substr(piece.begin, piece.end - piece.begin);
    std::string normalized;
    absl::string_view segment = raw;
    if (nfc_) {
      normalized = unicode::Nfc(raw);
      segment = normalized;
    }
    if (normalized_added_.empty()) {
      EncodeSegment(segment, &out);
      continue;
    }
    for (const AddedTokenMatcher::Piece& sub : normalized_added_.Split(segment)) {
      if (sub.id >= 0) {
        out.push_back(sub.id);
      } else {
        EncodeSegment(segment.substr(sub.begin, sub.end - sub.begin), &out);
      }
    }
  }
  if (add_special_tokens) out.insert(out.end(), suffix_.begin(), suffix_.end());
  return out;
}

void BpeTokenizer::EncodeSegment(absl::string_view text, std::vector<int32_t>* out) const {
  if (text.empty()) return;
  std::string prefixed;
  if (add_prefix_space_ && !prefix_space_per_word_ && text[0] != ' ') {
    prefixed = absl::StrCat(" ", text);
    text = prefixed;
  }
  // Code points and their byte offsets, so words are slices of `text`.
  std::vector<uint32_t> cps;
  std::vector<size_t> offsets;
  cps.reserve(text.size());
  offsets.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size();) {
    offsets.push_back(i);
    cps.push_back(unicode::DecodeOne(text, &i, unicode::InvalidUtf8::kMaximalSubpart));
  }
  offsets.push_back(text.size());
  std::string word;
  for (const auto& [b, e] : SplitWords(cps, pattern_)) {
    const absl::string_view slice = text.substr(offsets[b], offsets[e] - offsets[b]);
    if (prefix_space_per_word_ && add_prefix_space_ && cps[b] != ' ') {
      word = absl::StrCat(" ", slice);
      model_.EncodeWord(word, out);
    } else {
      model_.EncodeWord(slice, out);
    }
  }
}

absl::StatusOr<std::string> BpeTokenizer::Decode(absl::Span<const int32_t> ids,
                                                 bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " is outside the vocabulary of ", vocab_size()));
    }
    if (skip_special_tokens && special_[id]) continue;
    AppendByteLevelDecoded(id_to_text_[id], &bytes);
  }
  return unicode::LossyUtf8(bytes);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> NewBpeTokenizer(const std::string& path,
                                                           const TokenizerConfig& config) {
  return BuildTokenizer<BpeTokenizer>(path, config);
}

}  // namespace gisp
