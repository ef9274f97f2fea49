// Reads an HF tokenizer.json into the parts gisp's byte-level BPE tokenizer uses, and refuses
// (with the file and the field) every setting it does not implement.
#ifndef GISP_IO_TOKENIZER_HF_TOKENIZER_JSON_H_
#define GISP_IO_TOKENIZER_HF_TOKENIZER_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/base/json.h"
#include "gisp/io/tokenizer/added_tokens.h"
#include "gisp/io/tokenizer/bpe_model.h"
#include "gisp/io/tokenizer/pre_tokenizer.h"

namespace gisp {

struct HfTokenizerSpec {
  BpeModelSpec model;
  std::vector<AddedToken> added_tokens;
  bool nfc = false;  // normalizer
  // pre_tokenizer: the split pattern, and ByteLevel's add_prefix_space, which HF applies to each
  // piece it is given: each added-token-free segment for a lone ByteLevel, each word when
  // ByteLevel follows a Split.
  SplitPattern pattern = SplitPattern::kGpt2;
  bool add_prefix_space = false;
  bool prefix_space_per_word = false;
  // post_processor: what add_special_tokens puts before and after the text.
  std::vector<int32_t> prefix, suffix;
};

// `path` names the file in error messages.
absl::StatusOr<HfTokenizerSpec> ParseHfTokenizerJson(const Json& root, const std::string& path);

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_HF_TOKENIZER_JSON_H_
