// HF tokenizer.json byte-level BPE (Llama-3, Qwen2, GPT-2 style): added tokens split first,
// optional NFC, the model's split pattern, GPT-2 byte-to-unicode mapping, BPE merges by rank
// (with `ignore_merges`), the post-processor's special tokens, ByteLevel decoding.
#ifndef GISP_IO_TOKENIZER_BPE_TOKENIZER_H_
#define GISP_IO_TOKENIZER_BPE_TOKENIZER_H_

#include <memory>
#include <string>

#include "gisp/io/tokenizer/tokenizer.h"

namespace gisp {

// Loads `path` (a tokenizer.json); tokenizer_config.json next to it, if any, names BOS/EOS.
absl::StatusOr<std::unique_ptr<Tokenizer>> NewBpeTokenizer(const std::string& path);

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_BPE_TOKENIZER_H_
