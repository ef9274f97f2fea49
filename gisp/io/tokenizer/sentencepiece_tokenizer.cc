#include "gisp/io/tokenizer/sentencepiece_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "gisp/io/tokenizer/sentencepiece_model.h"
#include "gisp/io/tokenizer/unicode.h"
#include "gisp/io/tokenizer/word_cache.h"

namespace gisp {
namespace {

using Model = SentencePieceModel;

constexpr absl::string_view kEscapedSpace = "\xE2\x96\x81";  // U+2581

// Byte length of the UTF-8 character starting with `lead` (SentencePiece's OneCharLen).
size_t OneCharLen(unsigned char lead) {
  static constexpr unsigned char kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override;
  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(m_.pieces.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  std::string kind() const override { return "sentencepiece"; }

 private:
  friend absl::StatusOr<std::unique_ptr<Tokenizer>> BuildTokenizer<SentencePieceTokenizer>(
      const std::string& path, const TokenizerConfig& config);
  absl::Status Init(const std::string& path, const TokenizerConfig& config);

  std::string Normalize(absl::string_view text) const;
  // Length of the user-defined piece at s[pos], or 0.
  size_t UserDefinedAt(absl::string_view s, size_t pos) const;
  // BPE over one chunk of normalized text; appends ids (byte fallback and <unk> applied).
  void EncodeChunk(absl::string_view s, std::vector<int32_t>* out) const;
  // Appends `chunk_ids`, merging an <unk> run across the join as SentencePiece does.
  void AppendMergingUnknown(const std::vector<int32_t>& chunk_ids, std::vector<int32_t>* out) const;

  Model m_;
  absl::string_view space_;  // the normalized space: U+2581, or ' ' without escaping
  absl::flat_hash_map<std::string, int32_t> mergeable_;  // NORMAL, USER_DEFINED, UNUSED
  std::vector<std::string> user_defined_[256];           // by first byte, longest first
  int32_t byte_ids_[256] = {};
  std::vector<uint8_t> byte_value_;  // the byte of each BYTE piece (by id)
  int32_t unk_ = -1, bos_ = -1, eos_ = -1;
  bool add_bos_ = true, add_eos_ = false;
  // Whether the normalized text may be cut before each space run that follows a non-space (true
  // when no mergeable piece has a space after a non-space): then chunks are independent and
  // their ids can be cached.
  bool chunkable_ = true;
  WordCache cache_;
};

absl::Status SentencePieceTokenizer::Init(const std::string& path, const TokenizerConfig& config) {
  GISP_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  GISP_ASSIGN_OR_RETURN(m_, ParseSentencePieceModel(data, path));
  if (m_.model_type != Model::kBpe) {
    return absl::UnimplementedError(absl::StrCat(
        path, ": unsupported trainer_spec.model_type ", m_.model_type,
        " (gisp reads SentencePiece BPE models, model_type 2, as Llama-2 and Mistral use)"));
  }
  if (m_.treat_whitespace_as_suffix) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": unsupported trainer_spec.treat_whitespace_as_suffix = true"));
  }
  if (m_.has_precompiled_charsmap) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": unsupported normalizer_spec \"", m_.normalizer_name,
                     "\" with a precompiled_charsmap (gisp implements the identity normalizer)"));
  }
  if (m_.has_denormalizer) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": unsupported denormalizer_spec with rules"));
  }
  space_ = m_.escape_whitespaces ? kEscapedSpace : absl::string_view(" ");
  for (int b = 0; b < 256; ++b) byte_ids_[b] = -1;
  byte_value_.assign(m_.pieces.size(), 0);
  for (size_t i = 0; i < m_.pieces.size(); ++i) {
    const Model::Piece& p = m_.pieces[i];
    const int32_t id = static_cast<int32_t>(i);
    switch (p.type) {
      case Model::kNormal:
      case Model::kUserDefined:
      case Model::kUnused: {
        if (!mergeable_.emplace(p.text, id).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": piece \"", p.text, "\" is defined twice"));
        }
        // A space after a non-space inside a piece would let BPE merge across chunks.
        const size_t first_other = p.text.find_first_not_of(std::string(space_));
        if (first_other != std::string::npos &&
            p.text.find(std::string(space_), first_other) != std::string::npos) {
          chunkable_ = false;
        }
        if (p.type == Model::kUserDefined) {
          user_defined_[static_cast<unsigned char>(p.text[0])].push_back(p.text);
        }
        break;
      }
      case Model::kUnknown:
        if (unk_ < 0) unk_ = id;
        break;
      case Model::kByte: {
        unsigned value = 0;
        char tail = 0;
        if (std::sscanf(p.text.c_str(), "<0x%2X%c", &value, &tail) != 2 || tail != '>' ||
            p.text.size() != 6) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": byte piece \"", p.text, "\" is not <0xXX>"));
        }
        byte_ids_[value & 0xFF] = id;
        byte_value_[i] = static_cast<uint8_t>(value);
        break;
      }
      default:
        break;
    }
  }
  for (auto& list : user_defined_) {
    std::stable_sort(list.begin(), list.end(), [](const std::string& a, const std::string& b) {
      return a.size() > b.size();
    });
  }
  if (unk_ < 0 && !m_.byte_fallback) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the model has no <unk> piece"));
  }
  if (m_.byte_fallback) {
    for (int b = 0; b < 256; ++b) {
      if (byte_ids_[b] < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: trainer_spec.byte_fallback is set but piece <0x%02X> is missing", path, b));
      }
    }
  }
  // BOS/EOS: control pieces named by tokenizer_config.json or the trainer spec.
  auto control_id = [&](const std::string& text) -> int32_t {
    for (size_t i = 0; i < m_.pieces.size(); ++i) {
      if (m_.pieces[i].text == text && m_.pieces[i].type == Model::kControl) {
        return static_cast<int32_t>(i);
      }
    }
    return -1;
  };
  bos_ = control_id(config.bos_token.value_or(m_.bos_piece));
  eos_ = control_id(config.eos_token.value_or(m_.eos_piece));
  add_bos_ = config.add_bos_token.value_or(true);
  add_eos_ = config.add_eos_token.value_or(false);
  if (add_bos_ && bos_ < 0 && config.add_bos_token.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(config.path, ": add_bos_token is true but ",
                                                   path, " has no BOS control piece"));
  }
  if (add_eos_ && eos_ < 0) {
    return absl::InvalidArgumentError(absl::StrCat(config.path, ": add_eos_token is true but ",
                                                   path, " has no EOS control piece"));
  }
  return absl::OkStatus();
}

size_t SentencePieceTokenizer::UserDefinedAt(absl::string_view s, size_t pos) const {
  for (const std::string& u : user_defined_[static_cast<unsigned char>(s[pos])]) {
    if (s.compare(pos, u.size(), u) == 0) return u.size();
  }
  return 0;
}

// SentencePiece's Normalizer::Normalize for the identity normalizer.
std::string SentencePieceTokenizer::Normalize(absl::string_view text) const {
  std::string out;
  size_t i = 0;
  if (m_.remove_extra_whitespaces) {
    while (i < text.size() && text[i] == ' ') ++i;
  }
  if (i == text.size()) return out;
  out.reserve(text.size() * 3 / 2 + 3);
  if (m_.add_dummy_prefix) out.append(space_.data(), space_.size());
  bool prev_space = m_.remove_extra_whitespaces;
  while (i < text.size()) {
    // One piece: a user-defined symbol, one character, or U+FFFD for one invalid byte.
    absl::string_view piece;
    size_t len = UserDefinedAt(text, i);
    if (len == 0) {
      size_t next = i;
      const uint32_t cp = unicode::DecodeOne(text, &next, unicode::InvalidUtf8::kPerByte);
      len = next - i;
      const bool invalid = cp == unicode::kReplacement && text.compare(i, 3, "\xEF\xBF\xBD") != 0;
      piece = invalid ? absl::string_view("\xEF\xBF\xBD") : text.substr(i, len);
    } else {
      piece = text.substr(i, len);
    }
    i += len;
    while (prev_space && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
    if (!piece.empty()) {
      for (char c : piece) {
        if (c == ' ') {
          out.append(space_.data(), space_.size());
        } else {
          out.push_back(c);
        }
      }
      prev_space = piece.back() == ' ';
    }
    if (!m_.remove_extra_whitespaces) prev_space = false;
  }
  if (m_.remove_extra_whitespaces) {
    while (out.size() >= space_.size() && absl::EndsWith(out, space_)) {
      out.resize(out.size() - space_.size());
    }
  }
  return out;
}

absl::StatusOr<std::vector<int32_t>> SentencePieceTokenizer::Encode(absl::string_view text,
                                                                    bool add_special_tokens) const {
  std::vector<int32_t> out;
  // add_bos_ defaults to true; a model without a BOS control piece gets none (as SentencePiece
  // with bos_id -1), never the id -1 (found by tools/fuzz/sentencepiece_fuzzer).
  if (add_special_tokens && add_bos_ && bos_ >= 0) out.push_back(bos_);
  const std::string s = Normalize(text);
  if (!chunkable_) {
    std::vector<int32_t> ids;
    EncodeChunk(s, &ids);
    AppendMergingUnknown(ids, &out);
  } else {
    out.reserve(out.size() + s.size() / 3 + 2);
    std::vector<int32_t> ids;
    size_t start = 0;
    bool prev_space = false;
    auto flush = [&](size_t end) {
      const absl::string_view chunk(s.data() + start, end - start);
      ids.clear();
      if (!cache_.Lookup(chunk, &ids)) {
        EncodeChunk(chunk, &ids);
        cache_.Insert(chunk, ids);
      }
      AppendMergingUnknown(ids, &out);
      start = end;
    };
    for (size_t i = 0; i < s.size();) {
      const bool space = absl::string_view(s).substr(i, space_.size()) == space_;
      if (space && !prev_space && i > start) flush(i);
      prev_space = space;
      i += space ? space_.size() : 1;
    }
    if (start < s.size()) flush(s.size());
  }
  if (add_special_tokens && add_eos_) out.push_back(eos_);
  return out;
}

void SentencePieceTokenizer::AppendMergingUnknown(const std::vector<int32_t>& chunk_ids,
                                                  std::vector<int32_t>* out) const {
  size_t from = 0;
  if (!m_.byte_fallback && !chunk_ids.empty() && !out->empty() && out->back() == unk_ &&
      chunk_ids[0] == unk_) {
    from = 1;
  }
  out->insert(out->end(), chunk_ids.begin() + static_cast<std::ptrdiff_t>(from), chunk_ids.end());
}

// SentencePiece's bpe::Model::SampleEncode without dropout.
void SentencePieceTokenizer::EncodeChunk(absl::string_view s, std::vector<int32_t>* out) const {
  if (s.empty()) return;
  struct Symbol {
    int prev, next;
    bool freeze;  // user-defined: never merged
    absl::string_view piece;
  };
  std::vector<Symbol> sym;
  for (size_t i = 0; i < s.size();) {
    size_t len = UserDefinedAt(s, i);
    const bool freeze = len > 0;
    if (!freeze) len = std::min(OneCharLen(static_cast<unsigned char>(s[i])), s.size() - i);
    const int index = static_cast<int>(sym.size());
    sym.push_back({index - 1, index + 1, freeze, s.substr(i, len)});
    i += len;
  }
  sym.back().next = -1;

  struct Candidate {
    float score;
    int left, right;
    size_t size;
  };
  auto worse = [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score < b.score : a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> agenda(worse);
  // Merged UNUSED pieces and the two pieces they came from, for resegmentation.
  absl::flat_hash_map<absl::string_view, std::pair<absl::string_view, absl::string_view>> rev_merge;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0 || sym[left].freeze || sym[right].freeze) return;
    const absl::string_view piece(sym[left].piece.data(),
                                  sym[left].piece.size() + sym[right].piece.size());
    auto it = mergeable_.find(piece);
    if (it == mergeable_.end()) return;
    const Model::Piece& p = m_.pieces[it->second];
    agenda.push({p.score, left, right, piece.size()});
    if (p.type == Model::kUnused) rev_merge[piece] = {sym[left].piece, sym[right].piece};
  };
  for (size_t i = 1; i < sym.size(); ++i) consider(static_cast<int>(i) - 1, static_cast<int>(i));
  while (!agenda.empty()) {
    const Candidate top = agenda.top();
    agenda.pop();
    Symbol& l = sym[top.left];
    Symbol& r = sym[top.right];
    if (l.piece.empty() || r.piece.empty() || l.piece.size() + r.piece.size() != top.size) {
      continue;  // stale: a side was merged away or grew since this was queued
    }
    l.piece = absl::string_view(l.piece.data(), l.piece.size() + r.piece.size());
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = top.left;
    r.piece = absl::string_view();
    consider(l.prev, top.left);
    consider(top.left, l.next);
  }

  bool prev_unknown = false;
  auto emit = [&](absl::string_view piece, int32_t id) {
    if (id >= 0) {
      out->push_back(id);
      prev_unknown = false;
    } else if (m_.byte_fallback) {
      for (unsigned char b : piece) out->push_back(byte_ids_[b]);
      prev_unknown = false;
    } else {
      if (!prev_unknown) out->push_back(unk_);  // a run of unknown pieces is one <unk>
      prev_unknown = true;
    }
  };
  // An UNUSED piece is split back into the pieces it was merged from.
  auto resegment = [&](auto& self, absl::string_view w, int depth) -> void {
    auto it = mergeable_.find(w);
    if (it == mergeable_.end()) return emit(w, -1);
    if (m_.pieces[it->second].type != Model::kUnused || depth > 64) return emit(w, it->second);
    auto p = rev_merge.find(w);
    if (p == rev_merge.end()) return emit(w, -1);
    self(self, p->second.first, depth + 1);
    self(self, p->second.second, depth + 1);
  };
  for (int i = 0; i >= 0; i = sym[i].next) resegment(resegment, sym[i].piece, 0);
}

// SentencePiece's SentencePieceProcessor::Decode. With skip_special_tokens = false, control
// pieces (<s>, </s>) appear as their text where SentencePiece drops them.
absl::StatusOr<std::string> SentencePieceTokenizer::Decode(absl::Span<const int32_t> ids,
                                                           bool skip_special_tokens) const {
  std::string text, bytes;
  size_t visible = 0;  // bytes of `text` that are not control-piece text
  auto flush_bytes = [&]() {
    // Byte pieces: valid UTF-8 characters as they are, U+FFFD for each invalid byte.
    for (size_t i = 0; i < bytes.size();) {
      const size_t at = i;
      const uint32_t cp = unicode::DecodeOne(bytes, &i, unicode::InvalidUtf8::kPerByte);
      const size_t before = text.size();
      if (cp == unicode::kReplacement && bytes.compare(at, 3, "\xEF\xBF\xBD") != 0) {
        text += "\xEF\xBF\xBD";
      } else {
        text.append(bytes, at, i - at);
      }
      visible += text.size() - before;
    }
    bytes.clear();
  };
  bool is_bos_ws = true;  // a leading space still to be dropped (the dummy prefix)
  bool bos_ws_seen = false;
  const bool strip_leading = m_.add_dummy_prefix || m_.remove_extra_whitespaces;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " is outside the vocabulary of ", vocab_size()));
    }
    const Model::Piece& p = m_.pieces[id];
    if (p.type == Model::kByte) {
      bytes.push_back(static_cast<char>(byte_value_[id]));
      continue;
    }
    flush_bytes();
    if (bos_ws_seen || visible > 0) is_bos_ws = false;
    bos_ws_seen = false;
    if (p.type == Model::kControl) {
      if (!skip_special_tokens) text += p.text;
      continue;
    }
    const size_t before = text.size();
    if (p.type == Model::kUnknown) {
      text += m_.unk_surface;
    } else {
      absl::string_view piece = p.text;
      if (is_bos_ws && strip_leading && absl::ConsumePrefix(&piece, kEscapedSpace)) {
        bos_ws_seen = !m_.remove_extra_whitespaces;
      }
      for (size_t at; !piece.empty();) {
        at = piece.find(kEscapedSpace);
        text.append(piece.data(), std::min(at, piece.size()));
        if (at == absl::string_view::npos) break;
        text.push_back(' ');
        piece.remove_prefix(at + kEscapedSpace.size());
      }
    }
    visible += text.size() - before;
  }
  flush_bytes();
  return text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> NewSentencePieceTokenizer(
    const std::string& model_path, const TokenizerConfig& config) {
  return BuildTokenizer<SentencePieceTokenizer>(model_path, config);
}

}  // namespace gisp
