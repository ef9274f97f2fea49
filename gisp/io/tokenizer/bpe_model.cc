#include "gisp/io/tokenizer/bpe_model.h"

#include <algorithm>
#include <queue>

#include "absl/strings/str_cat.h"
#include "gisp/io/tokenizer/byte_level.h"

namespace gisp {

absl::Status BpeModel::Init(BpeModelSpec spec, const std::string& source) {
  ignore_merges_ = spec.ignore_merges;
  unk_id_ = spec.unk_id;
  fuse_unk_ = spec.fuse_unk;
  int32_t max_id = -1;
  vocab_.reserve(spec.vocab.size());
  for (auto& [token, id] : spec.vocab) {
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": model.vocab entry \"", token, "\" has a negative id ", id));
    }
    max_id = std::max(max_id, id);
    vocab_[token] = id;
  }
  // In size_t: max_id may be INT32_MAX (callers bound ids before a table this large is built).
  id_to_token_.assign(static_cast<size_t>(int64_t{max_id} + 1), std::string());
  for (const auto& [token, id] : vocab_) id_to_token_[static_cast<size_t>(id)] = token;
  for (int b = 0; b < 256; ++b) byte_ids_[b] = TokenToId(ByteLevelChar(static_cast<uint8_t>(b)));
  merges_.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    const int32_t l = TokenToId(left), r = TokenToId(right);
    const int32_t merged = TokenToId(left + right);
    // tokenizers refuses such files too (MergeTokenOutOfVocabulary).
    const char* missing = l < 0 ? "left part" : r < 0 ? "right part" : "merged token";
    if (l < 0 || r < 0 || merged < 0) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": model.merges entry ", rank, " (\"",
                                                     left, "\", \"", right, "\"): its ", missing,
                                                     " is not in model.vocab"));
    }
    // A repeated pair takes its last rank, as in tokenizers (a map built in file order).
    merges_.insert_or_assign(Key(l, r), std::make_pair(static_cast<int32_t>(rank), merged));
  }
  return absl::OkStatus();
}

int32_t BpeModel::TokenToId(absl::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

const std::string& BpeModel::IdToToken(int32_t id) const {
  static const std::string* empty = new std::string();
  if (id < 0 || id >= size()) return *empty;
  return id_to_token_[static_cast<size_t>(id)];
}

void BpeModel::EncodeWord(absl::string_view word, std::vector<int32_t>* out) const {
  if (cache_.Lookup(word, out)) return;
  std::vector<int32_t> ids;
  Merge(word, &ids);
  out->insert(out->end(), ids.begin(), ids.end());
  cache_.Insert(word, std::move(ids));
}

void BpeModel::Merge(absl::string_view word, std::vector<int32_t>* ids) const {
  if (ignore_merges_) {
    std::string mapped;
    AppendByteLevel(word, &mapped);
    const int32_t whole = TokenToId(mapped);
    if (whole >= 0) {
      ids->push_back(whole);
      return;
    }
  }
  // Initial symbols: one per byte.
  struct Symbol {
    int32_t id;
    int prev, next;
  };
  std::vector<Symbol> sym;
  sym.reserve(word.size());
  for (unsigned char b : word) {
    int32_t id = byte_ids_[b];
    if (id < 0) {
      if (unk_id_ < 0) continue;
      if (fuse_unk_ && !sym.empty() && sym.back().id == unk_id_) continue;
      id = unk_id_;
    }
    const int index = static_cast<int>(sym.size());
    sym.push_back({id, index - 1, index + 1});
  }
  if (sym.empty()) return;
  sym.back().next = -1;
  // Candidate merges, lowest rank first, then leftmost. Entries go stale when a neighbour
  // merges; they are checked when popped (as tokenizers' Word::merge_all does).
  struct Candidate {
    int32_t rank;
    int pos;
    int32_t merged;
  };
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
  auto consider = [&](int left) {
    if (left < 0 || sym[left].next < 0) return;
    auto it = merges_.find(Key(sym[left].id, sym[sym[left].next].id));
    if (it != merges_.end()) queue.push({it->second.first, left, it->second.second});
  };
  for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = sym[top.pos];
    if (left.id < 0 || left.next < 0) continue;
    auto it = merges_.find(Key(left.id, sym[left.next].id));
    if (it == merges_.end() || it->second.second != top.merged) continue;
    Symbol& right = sym[left.next];
    left.id = top.merged;
    left.next = right.next;
    if (right.next >= 0) sym[right.next].prev = top.pos;
    right.id = -1;  // merged away
    consider(left.prev);
    consider(top.pos);
  }
  for (int i = 0; i >= 0; i = sym[i].next) ids->push_back(sym[i].id);
}

}  // namespace gisp
