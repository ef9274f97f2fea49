// A dependency-free PNG writer: 8-bit RGB, one IDAT with a zlib stream of stored deflate blocks.
#ifndef GISP_TOOLS_PLOT_PNG_H_
#define GISP_TOOLS_PLOT_PNG_H_

#include <cstdint>
#include <string>
#include <vector>

namespace gisp_plot {

uint32_t Crc32(const uint8_t* data, size_t n, uint32_t crc = 0);
uint32_t Adler32(const uint8_t* data, size_t n);

// The PNG file bytes for `rgb` (width * height * 3 bytes, rows top to bottom).
std::string EncodePng(int width, int height, const std::vector<uint8_t>& rgb);

// Writes the PNG through a temporary file and rename. "" on success, else a message.
std::string WritePng(const std::string& path, int width, int height,
                     const std::vector<uint8_t>& rgb);

}  // namespace gisp_plot

#endif  // GISP_TOOLS_PLOT_PNG_H_
