// Tokenizer: text <-> token ids for the models gisp loads. Two implementations:
// SentencePiece `tokenizer.model` (Llama-2, Mistral) through Debian's libsentencepiece, and HF
// `tokenizer.json` byte-level BPE (Llama-3, Qwen2, GPT-2 style).
#ifndef GISP_IO_TOKENIZER_TOKENIZER_H_
#define GISP_IO_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace gisp {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // From an HF model directory: tokenizer.model (SentencePiece) if present, else
  // tokenizer.json. tokenizer_config.json, when present, decides add_bos_token/add_eos_token.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& model_dir);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePiece(const std::string& path);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfJson(const std::string& path);

  // Token ids of `text` (UTF-8). add_special_tokens = true adds what the tokenizer adds by
  // default (BOS for Llama-2/3 style, nothing for Qwen2), like HF's
  // encode(text, add_special_tokens=...).
  virtual absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                                      bool add_special_tokens) const = 0;
  virtual absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                             bool skip_special_tokens) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;  // -1 if none
  virtual int32_t eos_id() const = 0;  // -1 if none
  virtual std::string kind() const = 0;  // "sentencepiece" or "hf-bpe"
};

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_TOKENIZER_H_
