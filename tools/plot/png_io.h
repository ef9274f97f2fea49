// PNG files through libpng (Debian's libpng16, which deflates with zlib): 8-bit RGB in and out.
#ifndef GISP_TOOLS_PLOT_PNG_IO_H_
#define GISP_TOOLS_PLOT_PNG_IO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {
namespace plot {

// The bytes of a PNG file. `rgb`: [height, width, 3] row-major.
absl::StatusOr<std::string> EncodePng(int width, int height, const std::vector<uint8_t>& rgb);

// Encodes and writes `path` atomically (gisp/base/file.h WriteFileAtomic).
absl::Status WritePng(const std::string& path, int width, int height,
                      const std::vector<uint8_t>& rgb);

struct DecodedPng {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;            // [height, width, 3]
  uint32_t Pixel(int x, int y) const;  // 0xRRGGBB
};

// Any PNG libpng reads, converted to 8-bit RGB (composited on black if it has alpha).
absl::StatusOr<DecodedPng> DecodePng(absl::string_view file);

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_PNG_IO_H_
