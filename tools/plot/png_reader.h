// A minimal PNG reader for tests of png.h and plot.h: checks the signature, every chunk CRC, the
// IHDR fields, the zlib header and Adler-32, and inflates stored and fixed-Huffman deflate blocks
// (all that png.h writes). Dynamic-Huffman streams are rejected. 8-bit RGB only; all five scanline
// filters are undone so streams from other encoders can be read too.
#ifndef GISP_TOOLS_PLOT_PNG_READER_H_
#define GISP_TOOLS_PLOT_PNG_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {
namespace plot {

struct DecodedPng {
  int width = 0, height = 0;
  std::vector<std::string> chunk_types;  // in file order
  std::vector<uint8_t> rgb;              // [height, width, 3]
  uint32_t Pixel(int x, int y) const;    // 0xRRGGBB
};

// Inflates a zlib stream (RFC 1950 + RFC 1951, BTYPE 00 and 01 only).
absl::StatusOr<std::string> ZlibInflate(absl::string_view stream);

absl::StatusOr<DecodedPng> DecodePng(absl::string_view file);

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_PNG_READER_H_
