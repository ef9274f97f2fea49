// Tokenizer: text <-> token ids for the models gisp loads. Two implementations, both checked
// id for id against the reference Python libraries (testdata/tokenizers):
//   SentencePiece `tokenizer.model` BPE (Llama-2, Mistral): sentencepiece_tokenizer.h
//   HF `tokenizer.json` byte-level BPE (Llama-3, Qwen2, GPT-2 style): bpe_tokenizer.h
// Encode and Decode are const and safe to call from several threads at once.
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
  // tokenizer.json. tokenizer_config.json next to the file, when present, decides
  // add_bos_token / add_eos_token and names the BOS/EOS tokens (also for the two loaders below).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& model_dir);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePiece(const std::string& path);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfJson(const std::string& path);

  // Token ids of `text` (UTF-8). add_special_tokens = true adds what the tokenizer adds by
  // default (BOS for Llama-2/3 style, nothing for Qwen2), like HF's
  // encode(text, add_special_tokens=...).
  // Special tokens written in the text (<|eot_id|>) are recognized by HF tokenizers, as in
  // transformers; SentencePiece treats "<s>" in text as plain text, as the library does.
  // Invalid UTF-8 in `text` becomes U+FFFD.
  virtual absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                                      bool add_special_tokens) const = 0;
  // Text of `ids`; bytes that do not form UTF-8 become U+FFFD. An id outside the vocabulary is
  // an InvalidArgument error.
  virtual absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                             bool skip_special_tokens) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;    // -1 if none
  virtual int32_t eos_id() const = 0;    // -1 if none
  virtual std::string kind() const = 0;  // "sentencepiece" or "hf-bpe"
};

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_TOKENIZER_H_
