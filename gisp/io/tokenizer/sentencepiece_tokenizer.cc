// SentencePiece BPE models (Llama-2, Mistral) implemented in gisp: the model file is read with a
// small protobuf wire-format reader and encoded with SentencePiece's BPE algorithm (merge the
// adjacent pair whose concatenation has the highest score, leftmost on ties; unknown characters
// fall back to <0xXX> byte pieces).
//
// Why not Debian's libsentencepiece: it carries its own copy of protobuf-lite and exports those
// symbols, which clash with libprotobuf.so (gisp's records) in one process; libgisp.so crashed in
// libprotobuf's static initializers when both were loaded. The Python `sentencepiece` package
// remains the oracle (testdata/tokenizers/tiny_sentencepiece).
#include "gisp/io/tokenizer/sentencepiece_tokenizer.h"

#include <cstring>
#include <queue>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "gisp/io/tokenizer/unicode.h"

namespace gisp {
namespace {

constexpr char kSpace[] = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

enum PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// Minimal protobuf wire-format reader.
class Wire {
 public:
  Wire(const char* p, size_t n) : p_(p), end_(p + n) {}
  bool done() const { return p_ >= end_; }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(*p_++);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  // Reads a field; `bytes` is set for length-delimited ones.
  bool Field(uint32_t* number, uint32_t* wire, uint64_t* value, const char** bytes) {
    uint64_t key;
    if (!Varint(&key)) return false;
    *number = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<uint32_t>(key & 7);
    switch (*wire) {
      case 0:
        return Varint(value);
      case 1:
        if (end_ - p_ < 8) return false;
        std::memcpy(value, p_, 8);
        p_ += 8;
        return true;
      case 2:
        if (!Varint(value) || static_cast<uint64_t>(end_ - p_) < *value) return false;
        *bytes = p_;
        p_ += *value;
        return true;
      case 5:
        if (end_ - p_ < 4) return false;
        *value = 0;
        std::memcpy(value, p_, 4);
        p_ += 4;
        return true;
      default:
        return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

struct Piece {
  std::string text;
  float score = 0;
  int type = kNormal;
};

class SentencePieceTokenizer final : public Tokenizer {
 public:
  absl::Status Init(const std::string& path, SpecialTokenPolicy policy);

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override {
    std::vector<int32_t> out;
    if (add_special_tokens && policy_.add_bos && bos_ >= 0) out.push_back(bos_);
    EncodeBody(Normalize(text), &out);
    if (add_special_tokens && policy_.add_eos && eos_ >= 0) out.push_back(eos_);
    return out;
  }

  absl::StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                                     bool skip_special_tokens) const override {
    std::string out, bytes;
    auto flush_bytes = [&]() {
      // Invalid UTF-8 in byte pieces decodes to U+FFFD, one per bad byte.
      for (uint32_t cp : unicode::Decode(bytes)) unicode::AppendUtf8(cp, &out);
      bytes.clear();
    };
    bool first = true;
    for (int32_t id : ids) {
      if (id < 0 || id >= static_cast<int32_t>(pieces_.size())) {
        return absl::InvalidArgumentError(
            absl::StrCat("token id ", id, " is outside the vocabulary of ", pieces_.size()));
      }
      const Piece& p = pieces_[id];
      if (p.type == kByte) {
        bytes.push_back(static_cast<char>(std::stoi(p.text.substr(3, 2), nullptr, 16)));
        first = false;
        continue;
      }
      flush_bytes();
      if (p.type == kControl) {
        if (!skip_special_tokens) out += p.text;
        continue;
      }
      if (p.type == kUnknown) {
        out += unk_surface_;
        first = false;
        continue;
      }
      std::string text = p.text;
      for (size_t at; (at = text.find(kSpace)) != std::string::npos;) text.replace(at, 3, " ");
      if (first && add_dummy_prefix_ && !text.empty() && text[0] == ' ') text.erase(0, 1);
      out += text;
      first = false;
    }
    flush_bytes();
    return out;
  }

  int32_t vocab_size() const override { return static_cast<int32_t>(pieces_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  std::string kind() const override { return "sentencepiece"; }

 private:
  std::string Normalize(absl::string_view text) const {
    std::string s(text);
    if (remove_extra_whitespaces_) {
      std::string t;
      for (char c : s) {
        if (c == ' ' && (t.empty() || t.back() == ' ')) continue;
        t.push_back(c);
      }
      while (!t.empty() && t.back() == ' ') t.pop_back();
      s = std::move(t);
    }
    if (s.empty()) return s;
    if (add_dummy_prefix_) s.insert(0, " ");
    if (!escape_whitespaces_) return s;
    std::string out;
    for (char c : s) {
      if (c == ' ') {
        out += kSpace;
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  void EncodeBody(const std::string& s, std::vector<int32_t>* out) const {
    if (s.empty()) return;
    struct Symbol {
      int prev, next;
      size_t begin, len;
    };
    std::vector<Symbol> sym;
    // Characters, with user-defined pieces matched whole (longest first).
    for (size_t i = 0; i < s.size();) {
      size_t len = 0;
      for (const std::string& u : user_defined_) {
        if (u.size() > len && s.compare(i, u.size(), u) == 0) len = u.size();
      }
      if (len == 0) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        len = std::min(len, s.size() - i);
      }
      const int idx = static_cast<int>(sym.size());
      sym.push_back({idx - 1, idx + 1, i, len});
      i += len;
    }
    sym.back().next = -1;
    struct Pair {
      float score;
      int left, right;
      size_t size;
    };
    auto worse = [](const Pair& a, const Pair& b) {
      return a.score != b.score ? a.score < b.score : a.left > b.left;
    };
    std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
    auto try_pair = [&](int left, int right) {
      if (left < 0 || right < 0) return;
      const size_t size = sym[left].len + sym[right].len;
      auto it = mergeable_.find(std::string(s, sym[left].begin, size));
      if (it == mergeable_.end()) return;
      agenda.push({pieces_[it->second].score, left, right, size});
    };
    for (size_t i = 1; i < sym.size(); ++i) try_pair(static_cast<int>(i - 1), static_cast<int>(i));
    while (!agenda.empty()) {
      const Pair top = agenda.top();
      agenda.pop();
      Symbol& l = sym[top.left];
      // Stale pair: one side was merged away or grew since it was queued.
      if (l.len == 0 || l.next != top.right || sym[top.right].len == 0 ||
          l.len + sym[top.right].len != top.size) {
        continue;
      }
      Symbol& r = sym[top.right];
      l.len += r.len;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = top.left;
      r.len = 0;
      try_pair(l.prev, top.left);
      try_pair(top.left, l.next);
    }
    for (int i = 0; i >= 0; i = sym[i].next) {
      const std::string piece(s, sym[i].begin, sym[i].len);
      auto it = lookup_.find(piece);
      if (it != lookup_.end()) {
        out->push_back(it->second);
      } else if (byte_fallback_) {
        for (unsigned char b : piece) out->push_back(byte_ids_[b]);
      } else {
        out->push_back(unk_);
      }
    }
  }

  std::vector<Piece> pieces_;
  std::unordered_map<std::string, int32_t> mergeable_;  // NORMAL and USER_DEFINED pieces
  std::unordered_map<std::string, int32_t> lookup_;     // + UNUSED (final lookup)
  std::vector<std::string> user_defined_;
  int32_t byte_ids_[256] = {};
  bool byte_fallback_ = false;
  bool add_dummy_prefix_ = true, remove_extra_whitespaces_ = true, escape_whitespaces_ = true;
  int32_t unk_ = 0, bos_ = 1, eos_ = 2;
  std::string unk_surface_ = " \xE2\x81\x87 ";
  SpecialTokenPolicy policy_;
};

absl::Status SentencePieceTokenizer::Init(const std::string& path, SpecialTokenPolicy policy) {
  policy_ = policy;
  GISP_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  auto corrupt = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a SentencePiece model (", what, ")"));
  };
  Wire top(data.data(), data.size());
  int64_t model_type = 1;  // UNIGRAM by default
  std::string normalizer_name;
  bool charsmap = false;
  while (!top.done()) {
    uint32_t number, wire;
    uint64_t value;
    const char* bytes = nullptr;
    if (!top.Field(&number, &wire, &value, &bytes)) return corrupt("malformed protobuf");
    if (wire != 2) continue;
    Wire sub(bytes, value);
    if (number == 1) {  // pieces
      Piece p;
      while (!sub.done()) {
        uint32_t n, w;
        uint64_t v;
        const char* b = nullptr;
        if (!sub.Field(&n, &w, &v, &b)) return corrupt("malformed piece");
        if (n == 1 && w == 2) p.text.assign(b, v);
        if (n == 2 && w == 5) std::memcpy(&p.score, &v, 4);
        if (n == 3 && w == 0) p.type = static_cast<int>(v);
      }
      pieces_.push_back(std::move(p));
    } else if (number == 2 || number == 3) {  // trainer_spec / normalizer_spec
      while (!sub.done()) {
        uint32_t n, w;
        uint64_t v;
        const char* b = nullptr;
        if (!sub.Field(&n, &w, &v, &b)) return corrupt("malformed spec");
        if (number == 2) {
          if (n == 3) model_type = static_cast<int64_t>(v);
          if (n == 35) byte_fallback_ = v != 0;
          if (n == 44 && w == 2) unk_surface_.assign(b, v);
          if (n == 24 && v != 0) return absl::UnimplementedError(
              absl::StrCat(path, ": treat_whitespace_as_suffix models are not supported"));
        } else {
          if (n == 1 && w == 2) normalizer_name.assign(b, v);
          if (n == 2 && w == 2 && v > 0) charsmap = true;
          if (n == 3) add_dummy_prefix_ = v != 0;
          if (n == 4) remove_extra_whitespaces_ = v != 0;
          if (n == 5) escape_whitespaces_ = v != 0;
        }
      }
    }
  }
  if (pieces_.empty()) return corrupt("no pieces");
  if (model_type != 2) {
    return absl::UnimplementedError(absl::StrCat(
        path, ": SentencePiece model_type ", model_type,
        " is not supported (gisp reads BPE models, model_type 2, as Llama-2 and Mistral use)"));
  }
  if (charsmap && normalizer_name != "identity") {
    return absl::UnimplementedError(absl::StrCat(path, ": normalizer \"", normalizer_name,
                                                 "\" is not supported (only identity)"));
  }
  bos_ = eos_ = unk_ = -1;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const Piece& p = pieces_[i];
    const int32_t id = static_cast<int32_t>(i);
    if (p.type == kNormal || p.type == kUserDefined) mergeable_.emplace(p.text, id);
    if (p.type == kNormal || p.type == kUserDefined || p.type == kUnused) lookup_.emplace(p.text, id);
    if (p.type == kUserDefined) user_defined_.push_back(p.text);
    if (p.type == kUnknown) unk_ = id;
    if (p.type == kControl && p.text == "<s>") bos_ = id;
    if (p.type == kControl && p.text == "</s>") eos_ = id;
    if (p.type == kByte) {
      unsigned value = 0;
      if (p.text.size() == 6 && std::sscanf(p.text.c_str(), "<0x%2X>", &value) == 1) {
        byte_ids_[value & 0xff] = id;
      }
    }
  }
  if (unk_ < 0) return corrupt("no <unk> piece");
  if (byte_fallback_) {
    for (int b = 0; b < 256; ++b) {
      if (pieces_[byte_ids_[b]].type != kByte ||
          pieces_[byte_ids_[b]].text != absl::StrFormat("<0x%02X>", b)) {
        return corrupt(absl::StrFormat("byte_fallback without piece <0x%02X>", b));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> NewSentencePieceTokenizer(
    const std::string& model_path, SpecialTokenPolicy policy) {
  auto tok = std::make_unique<SentencePieceTokenizer>();
  GISP_RETURN_IF_ERROR(tok->Init(model_path, policy));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace gisp
