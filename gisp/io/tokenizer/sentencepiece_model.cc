#include "gisp/io/tokenizer/sentencepiece_model.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gisp {
namespace {

// Protobuf wire format: a sequence of (field number, wire type, value) records.
class Wire {
 public:
  explicit Wire(absl::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}
  bool done() const { return p_ >= end_; }

  struct Field {
    uint32_t number = 0;
    uint32_t wire = 0;
    uint64_t value = 0;       // varint and fixed-size values; the length for wire type 2
    absl::string_view bytes;  // wire type 2
  };

  bool Next(Field* f) {
    uint64_t key;
    if (!Varint(&key)) return false;
    f->number = static_cast<uint32_t>(key >> 3);
    f->wire = static_cast<uint32_t>(key & 7);
    switch (f->wire) {
      case 0:
        return Varint(&f->value);
      case 1:
        return Fixed(8, f);
      case 2:
        if (!Varint(&f->value) || static_cast<uint64_t>(end_ - p_) < f->value) return false;
        f->bytes = absl::string_view(p_, f->value);
        p_ += f->value;
        return true;
      case 5:
        return Fixed(4, f);
      default:
        return false;
    }
  }

 private:
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(*p_++);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool Fixed(int n, Field* f) {
    if (end_ - p_ < n) return false;
    f->value = 0;
    std::memcpy(&f->value, p_, n);  // little-endian host, as the wire format
    p_ += n;
    return true;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

absl::StatusOr<SentencePieceModel> ParseSentencePieceModel(absl::string_view data,
                                                           const std::string& path) {
  auto corrupt = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a SentencePiece model (", what, ")"));
  };
  SentencePieceModel m;
  Wire top(data);
  Wire::Field f;
  while (!top.done()) {
    if (!top.Next(&f)) return corrupt("malformed protobuf");
    if (f.wire != 2) continue;
    Wire sub(f.bytes);
    Wire::Field g;
    if (f.number == 1) {  // ModelProto.pieces
      SentencePieceModel::Piece p;
      while (!sub.done()) {
        if (!sub.Next(&g)) return corrupt(absl::StrCat("malformed piece ", m.pieces.size()));
        if (g.number == 1 && g.wire == 2) p.text = std::string(g.bytes);
        if (g.number == 2 && g.wire == 5) {
          const uint32_t bits = static_cast<uint32_t>(g.value);
          std::memcpy(&p.score, &bits, 4);
        }
        if (g.number == 3 && g.wire == 0) p.type = static_cast<int>(g.value);
      }
      if (p.text.empty()) return corrupt(absl::StrCat("piece ", m.pieces.size(), " is empty"));
      m.pieces.push_back(std::move(p));
    } else if (f.number == 2) {  // TrainerSpec
      while (!sub.done()) {
        if (!sub.Next(&g)) return corrupt("malformed trainer_spec");
        if (g.number == 3 && g.wire == 0) m.model_type = static_cast<int>(g.value);
        if (g.number == 24 && g.wire == 0) m.treat_whitespace_as_suffix = g.value != 0;
        if (g.number == 35 && g.wire == 0) m.byte_fallback = g.value != 0;
        if (g.number == 44 && g.wire == 2) m.unk_surface = std::string(g.bytes);
        if (g.number == 45 && g.wire == 2) m.unk_piece = std::string(g.bytes);
        if (g.number == 46 && g.wire == 2) m.bos_piece = std::string(g.bytes);
        if (g.number == 47 && g.wire == 2) m.eos_piece = std::string(g.bytes);
      }
    } else if (f.number == 3) {  // NormalizerSpec
      while (!sub.done()) {
        if (!sub.Next(&g)) return corrupt("malformed normalizer_spec");
        if (g.number == 1 && g.wire == 2) m.normalizer_name = std::string(g.bytes);
        if (g.number == 2 && g.wire == 2) m.has_precompiled_charsmap = !g.bytes.empty();
        if (g.number == 3 && g.wire == 0) m.add_dummy_prefix = g.value != 0;
        if (g.number == 4 && g.wire == 0) m.remove_extra_whitespaces = g.value != 0;
        if (g.number == 5 && g.wire == 0) m.escape_whitespaces = g.value != 0;
      }
    } else if (f.number == 5) {  // denormalizer_spec
      while (!sub.done()) {
        if (!sub.Next(&g)) return corrupt("malformed denormalizer_spec");
        if ((g.number == 2 || g.number == 6) && g.wire == 2 && !g.bytes.empty()) {
          m.has_denormalizer = true;
        }
      }
    }
  }
  if (m.pieces.empty()) return corrupt("no pieces");
  return m;
}

}  // namespace gisp
