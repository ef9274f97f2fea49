// The tokenizer metadata llama.cpp needs to tokenize as gisp does, from an HF model directory:
//   tokenizer.model (SentencePiece BPE) -> tokenizer.ggml.model "llama": tokens, scores,
//     token types (SentencePiece's piece types, which llama.cpp's token types share), the
//     dummy-prefix flag;
//   tokenizer.json (byte-level BPE) -> "gpt2": tokens, token types, merges and the
//     pre-tokenizer llama.cpp names for the split pattern ("gpt-2", "llama-bpe", "qwen2").
// Both get the BOS/EOS ids and whether BOS/EOS are added, as gisp's tokenizer does.
#ifndef GISP_EXPORT_GGUF_TOKENIZER_H_
#define GISP_EXPORT_GGUF_TOKENIZER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "gisp/export/gguf_writer.h"

namespace gisp {

// Adds the tokenizer of `model_dir` to `w`, padded with unused "[PAD<i>]" tokens up to
// `vocab_size` (the embedding rows). NotFound when the directory has no tokenizer file.
absl::Status AddGgufTokenizer(const std::string& model_dir, int64_t vocab_size, GgufWriter* w);

}  // namespace gisp

#endif  // GISP_EXPORT_GGUF_TOKENIZER_H_
