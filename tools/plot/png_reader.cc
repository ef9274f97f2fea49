#include "tools/plot/png_reader.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"
#include "tools/plot/deflate_tables.h"
#include "tools/plot/png.h"

namespace gisp {
namespace plot {
namespace {

class BitReader {
 public:
  explicit BitReader(absl::string_view data) : data_(data) {}
  // `n` bits, first-read bit least significant (deflate's order for non-Huffman fields).
  absl::StatusOr<uint32_t> Bits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ / 8 >= data_.size()) return absl::DataLossError("deflate stream ends early");
      uint32_t bit = (static_cast<uint8_t>(data_[pos_ / 8]) >> (pos_ % 8)) & 1u;
      v |= bit << i;
      ++pos_;
    }
    return v;
  }
  // Appends `n` more bits of a Huffman code, first-read bit most significant.
  absl::Status Extend(uint32_t* code, int n) {
    for (int i = 0; i < n; ++i) {
      GISP_ASSIGN_OR_RETURN(uint32_t bit, Bits(1));
      *code = (*code << 1) | bit;
    }
    return absl::OkStatus();
  }
  void AlignToByte() { pos_ = (pos_ + 7) / 8 * 8; }
  size_t byte_pos() const { return pos_ / 8; }

 private:
  absl::string_view data_;
  size_t pos_ = 0;
};

// One literal/length symbol with the fixed code of RFC 1951 3.2.6.
absl::StatusOr<int> FixedSymbol(BitReader* in) {
  uint32_t code = 0;
  GISP_RETURN_IF_ERROR(in->Extend(&code, 7));
  if (code <= 0x17) return 256 + static_cast<int>(code);
  GISP_RETURN_IF_ERROR(in->Extend(&code, 1));
  if (code >= 0x30 && code <= 0xBF) return static_cast<int>(code) - 0x30;
  if (code >= 0xC0 && code <= 0xC7) return 280 + static_cast<int>(code) - 0xC0;
  GISP_RETURN_IF_ERROR(in->Extend(&code, 1));
  if (code >= 0x190 && code <= 0x1FF) return 144 + static_cast<int>(code) - 0x190;
  return absl::DataLossError(absl::StrCat("bad fixed Huffman code ", code));
}

absl::Status InflateFixedBlock(BitReader* in, std::string* out) {
  while (true) {
    GISP_ASSIGN_OR_RETURN(int sym, FixedSymbol(in));
    if (sym < 256) {
      out->push_back(static_cast<char>(sym));
      continue;
    }
    if (sym == 256) return absl::OkStatus();
    GISP_CHECK_ARG(sym <= 285, "length symbol ", sym, " is reserved");
    int li = sym - 257;
    GISP_ASSIGN_OR_RETURN(uint32_t lextra, in->Bits(deflate::kLengthExtra[li]));
    int length = deflate::kLengthBase[li] + static_cast<int>(lextra);
    uint32_t dcode = 0;
    GISP_RETURN_IF_ERROR(in->Extend(&dcode, 5));
    GISP_CHECK_ARG(dcode < 30, "distance code ", dcode, " is reserved");
    GISP_ASSIGN_OR_RETURN(uint32_t dextra, in->Bits(deflate::kDistExtra[dcode]));
    size_t distance = deflate::kDistBase[dcode] + dextra;
    GISP_CHECK_ARG(distance <= out->size(), "distance ", distance, " reaches before the start");
    size_t from = out->size() - distance;
    for (int k = 0; k < length; ++k) out->push_back((*out)[from + k]);  // may overlap itself
  }
}

int Paeth(int a, int b, int c) {
  int p = a + b - c;
  int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

uint32_t BigEndian32(absl::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

}  // namespace

uint32_t DecodedPng::Pixel(int x, int y) const {
  const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
  return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
}

absl::StatusOr<std::string> ZlibInflate(absl::string_view stream) {
  GISP_CHECK_ARG(stream.size() >= 6, "zlib stream of ", stream.size(), " bytes is too short");
  const int cmf = static_cast<uint8_t>(stream[0]), flg = static_cast<uint8_t>(stream[1]);
  GISP_CHECK_ARG((cmf & 0x0F) == 8, "zlib method ", cmf & 0x0F, " is not deflate");
  GISP_CHECK_ARG((cmf * 256 + flg) % 31 == 0, "zlib header check bits are wrong");
  GISP_CHECK_ARG(!(flg & 0x20), "zlib preset dictionary is not supported");
  BitReader in(stream.substr(2, stream.size() - 6));
  std::string out;
  bool last = false;
  while (!last) {
    GISP_ASSIGN_OR_RETURN(uint32_t bfinal, in.Bits(1));
    GISP_ASSIGN_OR_RETURN(uint32_t btype, in.Bits(2));
    last = bfinal != 0;
    if (btype == 0) {
      in.AlignToByte();
      GISP_ASSIGN_OR_RETURN(uint32_t len, in.Bits(16));
      GISP_ASSIGN_OR_RETURN(uint32_t nlen, in.Bits(16));
      GISP_CHECK_ARG((len ^ 0xFFFF) == nlen, "stored block LEN ", len, " != ~NLEN ", nlen);
      for (uint32_t i = 0; i < len; ++i) {
        GISP_ASSIGN_OR_RETURN(uint32_t byte, in.Bits(8));
        out.push_back(static_cast<char>(byte));
      }
    } else if (btype == 1) {
      GISP_RETURN_IF_ERROR(InflateFixedBlock(&in, &out));
    } else {
      return absl::UnimplementedError(absl::StrCat("deflate block type ", btype));
    }
  }
  in.AlignToByte();
  GISP_CHECK_ARG(in.byte_pos() == stream.size() - 6, "zlib stream has ",
                 stream.size() - 6 - in.byte_pos(), " bytes after the final block");
  uint32_t expected = BigEndian32(stream, stream.size() - 4);
  uint32_t actual = Adler32(out);
  GISP_CHECK_ARG(expected == actual, "Adler-32 ", actual, " != stored ", expected);
  return out;
}

absl::StatusOr<DecodedPng> DecodePng(absl::string_view file) {
  GISP_CHECK_ARG(file.substr(0, 8) == absl::string_view("\x89PNG\r\n\x1a\n", 8),
                 "not a PNG signature");
  DecodedPng png;
  std::string idat;
  bool have_header = false, have_end = false;
  size_t pos = 8;
  while (pos < file.size() && !have_end) {
    GISP_CHECK_ARG(file.size() - pos >= 12, "truncated chunk at byte ", pos);
    uint32_t len = BigEndian32(file, pos);
    GISP_CHECK_ARG(len <= file.size() - pos - 12, "chunk at byte ", pos, " overruns the file");
    std::string type(file.substr(pos + 4, 4));
    absl::string_view data = file.substr(pos + 8, len);
    uint32_t crc = BigEndian32(file, pos + 8 + len);
    GISP_CHECK_ARG(Crc32(file.substr(pos + 4, 4 + len)) == crc, "CRC mismatch in chunk ", type);
    png.chunk_types.push_back(type);
    if (type == "IHDR") {
      GISP_CHECK_ARG(len == 13 && pos == 8, "IHDR must be first and 13 bytes");
      png.width = static_cast<int>(BigEndian32(data, 0));
      png.height = static_cast<int>(BigEndian32(data, 4));
      GISP_CHECK_ARG(
          data[8] == 8 && data[9] == 2 && data[10] == 0 && data[11] == 0 && data[12] == 0,
          "only 8-bit RGB, non-interlaced PNGs are supported");
      have_header = true;
    } else if (type == "IDAT") {
      idat.append(data.data(), data.size());
    } else if (type == "IEND") {
      have_end = true;
    }
    pos += 12 + len;
  }
  GISP_CHECK_ARG(have_header && have_end, "PNG lacks IHDR or IEND");
  GISP_CHECK_ARG(pos == file.size(), "bytes after IEND");
  GISP_ASSIGN_OR_RETURN(std::string raw, ZlibInflate(idat));
  const size_t stride = static_cast<size_t>(png.width) * 3;
  GISP_CHECK_ARG(raw.size() == (stride + 1) * png.height, "image data has ", raw.size(),
                 " bytes, expected ", (stride + 1) * png.height);
  png.rgb.resize(stride * png.height);
  for (int y = 0; y < png.height; ++y) {
    const int filter = static_cast<uint8_t>(raw[y * (stride + 1)]);
    const uint8_t* src = reinterpret_cast<const uint8_t*>(raw.data()) + y * (stride + 1) + 1;
    uint8_t* row = &png.rgb[y * stride];
    const uint8_t* up = y > 0 ? &png.rgb[(y - 1) * stride] : nullptr;
    for (size_t i = 0; i < stride; ++i) {
      int a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = (up && i >= 3) ? up[i - 3] : 0;
      int pred = 0;
      switch (filter) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) / 2;
          break;
        case 4:
          pred = Paeth(a, b, c);
          break;
        default:
          return absl::DataLossError(absl::StrCat("row ", y, " has filter ", filter));
      }
      row[i] = static_cast<uint8_t>(src[i] + pred);
    }
  }
  return png;
}

}  // namespace plot
}  // namespace gisp
