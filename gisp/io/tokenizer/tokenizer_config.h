// tokenizer_config.json (transformers' tokenizer settings next to the tokenizer files): which
// special tokens encoding adds and what the BOS/EOS tokens are called.
#ifndef GISP_IO_TOKENIZER_TOKENIZER_CONFIG_H_
#define GISP_IO_TOKENIZER_TOKENIZER_CONFIG_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "gisp/io/tokenizer/tokenizer.h"

namespace gisp {

struct TokenizerConfig {
  std::string path;  // the file read; empty when there is none
  // Unset when the file does not say; transformers then keeps the tokenizer's own behaviour.
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  // Token contents; unset when absent or null.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
};

// Reads `dir`/tokenizer_config.json; a missing file gives an empty config.
absl::StatusOr<TokenizerConfig> ReadTokenizerConfig(const std::string& dir);

// The directory part of `path` ("." when it has none).
std::string DirectoryOf(const std::string& path);

// Constructs a T and runs its Init(path, config): how each tokenizer implementation's factory
// builds one. T makes this a friend, so that Init, which leaves the object half-built when it
// fails, is not callable on a tokenizer in use.
template <typename T>
absl::StatusOr<std::unique_ptr<Tokenizer>> BuildTokenizer(const std::string& path,
                                                          const TokenizerConfig& config) {
  auto tokenizer = std::make_unique<T>();
  absl::Status status = tokenizer->Init(path, config);
  if (!status.ok()) return status;
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_TOKENIZER_CONFIG_H_
