// SentencePiece BPE tokenizers (Llama-2, Mistral), implemented in gisp and checked against the
// Python `sentencepiece` package: identity normalization with the dummy-prefix and whitespace
// rules of the model's normalizer_spec, BPE by piece score (highest first, leftmost on ties),
// user-defined pieces kept whole, UNUSED pieces resegmented, unknown characters as <0xXX> byte
// pieces (byte_fallback) or one merged <unk>.
//
// Why not Debian's libsentencepiece: it carries its own copy of protobuf-lite and exports those
// symbols, which clash with libprotobuf.so (gisp's records) in one process; libgisp.so crashed in
// libprotobuf's static initializers when both were loaded.
#ifndef GISP_IO_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_
#define GISP_IO_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_

#include <memory>
#include <string>

#include "gisp/io/tokenizer/tokenizer.h"
#include "gisp/io/tokenizer/tokenizer_config.h"

namespace gisp {

// Loads `model_path` (a tokenizer.model). `config` (tokenizer_config.json) decides whether
// encoding adds BOS (default yes, as LlamaTokenizer) and EOS (default no) and may rename them.
absl::StatusOr<std::unique_ptr<Tokenizer>> NewSentencePieceTokenizer(const std::string& model_path,
                                                                     const TokenizerConfig& config);

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_
