// Tokenizing (context, continuation) pairs the way lm-evaluation-harness does, so answer-token
// losses and multiple-choice log-likelihoods count the same tokens as the literature: encode the
// concatenation once and split off the context's tokens (token boundaries can merge across the
// seam), after moving the context's trailing spaces onto the continuation.
#ifndef GISP_DATA_ENCODE_PAIR_H_
#define GISP_DATA_ENCODE_PAIR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/io/tokenizer/tokenizer.h"

namespace gisp {

struct EncodedPair {
  std::vector<int32_t> context;       // including the tokenizer's BOS when it adds one
  std::vector<int32_t> continuation;  // non-empty
};

absl::StatusOr<EncodedPair> EncodePair(const Tokenizer& tokenizer, absl::string_view context,
                                       absl::string_view continuation);

}  // namespace gisp

#endif  // GISP_DATA_ENCODE_PAIR_H_
