// A bounded, thread-safe map from a word (or chunk) to its token ids, shared by the BPE
// encoders: calibration corpora repeat the same words millions of times.
#ifndef GISP_IO_TOKENIZER_WORD_CACHE_H_
#define GISP_IO_TOKENIZER_WORD_CACHE_H_

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace gisp {

class WordCache {
 public:
  // Long words are rare and would crowd the cache; they are not stored.
  static constexpr size_t kMaxWordBytes = 128;
  static constexpr size_t kCapacity = 1 << 18;

  // Appends the cached ids of `word` to `out` and returns true, or returns false.
  bool Lookup(absl::string_view word, std::vector<int32_t>* out) const {
    if (word.size() > kMaxWordBytes) return false;
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = map_.find(word);
    if (it == map_.end()) return false;
    out->insert(out->end(), it->second.begin(), it->second.end());
    return true;
  }

  void Insert(absl::string_view word, std::vector<int32_t> ids) const {
    if (word.size() > kMaxWordBytes) return;
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (map_.size() < kCapacity) map_.emplace(word, std::move(ids));
  }

 private:
  mutable std::shared_mutex mu_;
  mutable absl::flat_hash_map<std::string, std::vector<int32_t>> map_;
};

}  // namespace gisp

#endif  // GISP_IO_TOKENIZER_WORD_CACHE_H_
