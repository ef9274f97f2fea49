// HF tokenizer.json byte-level BPE (Llama-3, Qwen2, GPT-2 style), following tokenizers'
// pipeline: split the input on added tokens, normalize (NFC or nothing), split on normalized
// added tokens, pre-tokenize with the model's split pattern, byte-level BPE per word, then the
// post-processor's special tokens. Decoding maps tokens back to bytes (ByteLevel decoder) and
// replaces ill-formed UTF-8 as Rust's from_utf8_lossy does.
#ifndef GISP_IO_TOKENIZER_BPE_TOKENIZER_H_
#define GISP_IO_TOKENIZER_BPE_TOKENIZER_H_

#include <memory>
#include <string>

#include "gisp/io/tokenizer/tokenizer.h"
#include "gisp/io/tokenizer/tokenizer_config.h"

namespace gisp {

// Loads `path` (a tokenizer.json). `config` (tokenizer_config.json) names BOS/EOS and, where it
// sets add_bos_token / add_eos_token, overrides what the post-processor adds.
absl::StatusOr<std::unique_ptr<Tokenizer>> NewBpeTokenizer(const std::string& path,
                                                           const TokenizerConfig& config);

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_BPE_TOKENIZER_H_
