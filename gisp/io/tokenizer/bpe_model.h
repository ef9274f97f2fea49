// The BPE model of HF byte-level tokenizers: a word (a pre-token's bytes) becomes token ids by
// mapping its bytes to the byte-level alphabet and applying merges lowest rank first (leftmost
// on ties), as tokenizers' BPE does. With `ignore_merges` (Llama-3) a word that is itself in
// the vocabulary is one token. Results are cached per word, so calibration corpora with millions
// of tokens mostly hit the cache; the cache is safe to use from several threads.
#ifndef GISP_IO_TOKENIZER_BPE_MODEL_H_
#define GISP_IO_TOKENIZER_BPE_MODEL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gisp/io/tokenizer/word_cache.h"

namespace gisp {

struct BpeModelSpec {
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  bool ignore_merges = false;
  int32_t unk_id = -1;  // -1: characters missing from the vocabulary are dropped, as HF does
  bool fuse_unk = false;
};

class BpeModel {
 public:
  // `source` names the file in error messages.
  absl::Status Init(BpeModelSpec spec, const std::string& source);

  // Appends the ids of `word` (raw bytes, before the byte-level mapping).
  void EncodeWord(absl::string_view word, std::vector<int32_t>* out) const;

  // The id of a vocabulary token (byte-level text), or -1.
  int32_t TokenToId(absl::string_view token) const;
  // The vocabulary token of `id`, or "" when the vocabulary has none.
  const std::string& IdToToken(int32_t id) const;
  // One more than the largest id in the vocabulary.
  int32_t size() const { return static_cast<int32_t>(id_to_token_.size()); }

 private:
  void Merge(absl::string_view word, std::vector<int32_t>* ids) const;
  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  absl::flat_hash_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  absl::flat_hash_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // -> (rank, merged id)
  int32_t byte_ids_[256] = {};  // id of each byte's byte-level character, or -1
  bool ignore_merges_ = false;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;

  WordCache cache_;
};

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_BPE_MODEL_H_
