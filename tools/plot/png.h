// A dependency-free PNG encoder for the charts of tools/plot: 8-bit RGB, one IDAT chunk, zlib
// stream compressed either with stored blocks or with a greedy LZ77 + fixed-Huffman deflate.
// Charts are mostly flat colour, so the fixed-Huffman path shrinks them ~50x; stored blocks stay
// available as the trivially-correct fallback.
#ifndef GISP_TOOLS_PLOT_PNG_H_
#define GISP_TOOLS_PLOT_PNG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {
namespace plot {

// CRC-32 (IEEE 802.3, reflected, as used by PNG and gzip). Pass the previous value as `crc` to
// continue over split input; start with 0.
uint32_t Crc32(const void* data, size_t size, uint32_t crc = 0);
inline uint32_t Crc32(absl::string_view s, uint32_t crc = 0) {
  return Crc32(s.data(), s.size(), crc);
}

// Adler-32 (RFC 1950), the zlib trailer checksum. Continue with the previous value; start with 1.
uint32_t Adler32(const void* data, size_t size, uint32_t adler = 1);
inline uint32_t Adler32(absl::string_view s, uint32_t adler = 1) {
  return Adler32(s.data(), s.size(), adler);
}

enum class DeflateMode {
  kStored,        // uncompressed blocks of at most 65535 bytes
  kFixedHuffman,  // LZ77 (32 KiB window) coded with the fixed Huffman tables of RFC 1951
};

// A complete zlib stream (RFC 1950 header, deflate data, Adler-32 trailer) holding `data`.
std::string ZlibCompress(absl::string_view data, DeflateMode mode);

// The bytes of a PNG file. `rgb`: [height, width, 3] row-major, 8 bits per channel.
absl::StatusOr<std::string> EncodePng(int width, int height, const std::vector<uint8_t>& rgb,
                                      DeflateMode mode = DeflateMode::kFixedHuffman);

// Encodes and writes `path` atomically (gisp/base/file.h WriteFileAtomic).
absl::Status WritePng(const std::string& path, int width, int height,
                      const std::vector<uint8_t>& rgb);

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_PNG_H_
