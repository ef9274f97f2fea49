#include "tools/plot/png.h"

#include <algorithm>
#include <array>

#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "tools/plot/deflate_tables.h"

namespace gisp {
namespace plot {
namespace {

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

// LSB-first bit packing, the order deflate uses for everything except Huffman codes (which are
// stored most-significant bit first, so callers reverse them before Put).
class BitWriter {
 public:
  explicit BitWriter(std::string* out) : out_(out) {}
  void Put(uint32_t value, int bits) {
    buffer_ |= static_cast<uint64_t>(value) << count_;
    count_ += bits;
    while (count_ >= 8) {
      out_->push_back(static_cast<char>(buffer_ & 0xFF));
      buffer_ >>= 8;
      count_ -= 8;
    }
  }
  void PutHuffman(uint32_t code, int bits) {
    uint32_t reversed = 0;
    for (int i = 0; i < bits; ++i) reversed |= ((code >> i) & 1u) << (bits - 1 - i);
    Put(reversed, bits);
  }
  void Flush() {
    if (count_ > 0) Put(0, 8 - count_);
  }

 private:
  std::string* out_;
  uint64_t buffer_ = 0;
  int count_ = 0;
};

constexpr int kWindow = 32768;
constexpr int kMinMatch = 3;
constexpr int kMaxMatch = 258;
constexpr int kMaxChain = 64;  // candidates tried per position; charts rarely need more
constexpr int kHashBits = 15;

void PutLiteralOrLength(BitWriter* w, int symbol) {
  if (symbol < 144) {
    w->PutHuffman(0x30 + symbol, 8);
  } else if (symbol < 256) {
    w->PutHuffman(0x190 + (symbol - 144), 9);
  } else if (symbol < 280) {
    w->PutHuffman(symbol - 256, 7);
  } else {
    w->PutHuffman(0xC0 + (symbol - 280), 8);
  }
}

void PutMatch(BitWriter* w, int length, int distance) {
  int lc = 28;
  while (deflate::kLengthBase[lc] > length) --lc;
  PutLiteralOrLength(w, 257 + lc);
  if (deflate::kLengthExtra[lc] > 0)
    w->Put(length - deflate::kLengthBase[lc], deflate::kLengthExtra[lc]);
  int dc = 29;
  while (deflate::kDistBase[dc] > distance) --dc;
  w->PutHuffman(dc, 5);
  if (deflate::kDistExtra[dc] > 0)
    w->Put(distance - deflate::kDistBase[dc], deflate::kDistExtra[dc]);
}

void DeflateStored(absl::string_view data, std::string* out) {
  size_t pos = 0;
  do {
    size_t n = std::min<size_t>(65535, data.size() - pos);
    bool last = pos + n == data.size();
    out->push_back(last ? 1 : 0);  // BFINAL, BTYPE=00, then padding to the byte boundary
    out->push_back(static_cast<char>(n & 0xFF));
    out->push_back(static_cast<char>(n >> 8));
    out->push_back(static_cast<char>(~n & 0xFF));
    out->push_back(static_cast<char>((~n >> 8) & 0xFF));
    out->append(data.data() + pos, n);
    pos += n;
  } while (pos < data.size());
}

// One fixed-Huffman block with greedy LZ77 matching over hash chains.
void DeflateFixed(absl::string_view data, std::string* out) {
  BitWriter w(out);
  w.Put(1, 1);  // BFINAL
  w.Put(1, 2);  // BTYPE=01 (fixed Huffman)
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const int n = static_cast<int>(data.size());
  std::vector<int> head(1 << kHashBits, -1);
  std::vector<int> prev(kWindow, -1);
  auto hash = [&](int i) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    return static_cast<int>((v * 2654435761u) >> (32 - kHashBits));
  };
  auto insert = [&](int i) {
    if (i + kMinMatch > n) return;
    int h = hash(i);
    prev[i % kWindow] = head[h];
    head[h] = i;
  };
  int i = 0;
  while (i < n) {
    int best_len = 0;
    int best_dist = 0;
    if (i + kMinMatch <= n) {
      int limit = std::min(kMaxMatch, n - i);
      int candidate = head[hash(i)];
      for (int tries = 0; candidate >= 0 && i - candidate <= kWindow && tries < kMaxChain;
           ++tries) {
        int len = 0;
        while (len < limit && p[candidate + len] == p[i + len]) ++len;
        if (len > best_len) {
          best_len = len;
          best_dist = i - candidate;
          if (len == limit) break;
        }
        int next = prev[candidate % kWindow];
        if (next >= candidate) break;  // slot reused by a newer position: chain ends
        candidate = next;
      }
    }
    if (best_len >= kMinMatch) {
      PutMatch(&w, best_len, best_dist);
      for (int k = 0; k < best_len; ++k) insert(i + k);
      i += best_len;
    } else {
      PutLiteralOrLength(&w, p[i]);
      insert(i);
      ++i;
    }
  }
  PutLiteralOrLength(&w, 256);  // end of block
  w.Flush();
}

void AppendBigEndian32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

void AppendChunk(const char type[4], absl::string_view payload, std::string* out) {
  AppendBigEndian32(static_cast<uint32_t>(payload.size()), out);
  size_t type_at = out->size();
  out->append(type, 4);
  out->append(payload.data(), payload.size());
  AppendBigEndian32(Crc32(out->data() + type_at, 4 + payload.size()), out);
}

}  // namespace

uint32_t Crc32(const void* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return ~c;
}

uint32_t Adler32(const void* data, size_t size, uint32_t adler) {
  constexpr uint32_t kMod = 65521;
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t a = adler & 0xFFFF;
  uint32_t b = adler >> 16;
  while (size > 0) {
    // 5552 bytes is the longest run whose sums cannot overflow 32 bits before the reduction.
    size_t chunk = std::min<size_t>(size, 5552);
    for (size_t i = 0; i < chunk; ++i) {
      a += p[i];
      b += a;
    }
    a %= kMod;
    b %= kMod;
    p += chunk;
    size -= chunk;
  }
  return (b << 16) | a;
}

std::string ZlibCompress(absl::string_view data, DeflateMode mode) {
  std::string out;
  out.push_back(0x78);  // CMF: deflate, 32 KiB window
  out.push_back(0x01);  // FLG: no dictionary, check bits so that 0x7801 % 31 == 0
  if (mode == DeflateMode::kStored) {
    DeflateStored(data, &out);
  } else {
    DeflateFixed(data, &out);
  }
  AppendBigEndian32(Adler32(data), &out);
  return out;
}

absl::StatusOr<std::string> EncodePng(int width, int height, const std::vector<uint8_t>& rgb,
                                      DeflateMode mode) {
  // PNG allows 2^31-1, but a chart this large is a caller bug and would need gigabytes.
  GISP_CHECK_ARG(width > 0 && height > 0 && width <= 32768 && height <= 32768,
                 "PNG size must be 1..32768 per side, got ", width, "x", height);
  const size_t row_bytes = static_cast<size_t>(width) * 3;
  GISP_CHECK_ARG(rgb.size() == row_bytes * height, "PNG pixel buffer has ", rgb.size(),
                 " bytes, expected ", row_bytes * height, " for ", width, "x", height, " RGB");
  // Every scanline starts with its filter type; 0 (None) keeps the encoder simple and LZ77 still
  // finds the long runs of flat colour.
  std::string raw;
  raw.reserve((row_bytes + 1) * height);
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.append(reinterpret_cast<const char*>(rgb.data()) + y * row_bytes, row_bytes);
  }
  std::string ihdr;
  AppendBigEndian32(static_cast<uint32_t>(width), &ihdr);
  AppendBigEndian32(static_cast<uint32_t>(height), &ihdr);
  ihdr.push_back(8);  // bit depth
  ihdr.push_back(2);  // colour type: truecolour
  ihdr.push_back(0);  // compression: deflate
  ihdr.push_back(0);  // filter method 0
  ihdr.push_back(0);  // no interlace
  std::string png("\x89PNG\r\n\x1a\n", 8);
  AppendChunk("IHDR", ihdr, &png);
  AppendChunk("IDAT", ZlibCompress(raw, mode), &png);
  AppendChunk("IEND", "", &png);
  return png;
}

absl::Status WritePng(const std::string& path, int width, int height,
                      const std::vector<uint8_t>& rgb) {
  auto png = EncodePng(width, height, rgb);
  if (!png.ok()) return Annotate(png.status(), absl::StrCat("writing ", path));
  return WriteFileAtomic(path, *png);
}

}  // namespace plot
}  // namespace gisp
