// SentencePiece tokenizers (Llama-2, Mistral) through Debian's libsentencepiece.
#ifndef GISP_IO_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_
#define GISP_IO_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_

#include <memory>
#include <string>

#include "gisp/io/tokenizer/tokenizer.h"

namespace gisp {

struct SpecialTokenPolicy {
  bool add_bos = true;
  bool add_eos = false;
};

absl::StatusOr<std::unique_ptr<Tokenizer>> NewSentencePieceTokenizer(
    const std::string& model_path, SpecialTokenPolicy policy);

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_
