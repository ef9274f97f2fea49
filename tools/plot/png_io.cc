#include "tools/plot/png_io.h"

#include <png.h>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"

namespace gisp {
namespace plot {

// libpng's simplified API (png_image): no setjmp, errors land in image.message.
absl::StatusOr<std::string> EncodePng(int width, int height, const std::vector<uint8_t>& rgb) {
  GISP_CHECK_ARG(width > 0 && height > 0, "PNG size ", width, "x", height, " is empty");
  const size_t expected = static_cast<size_t>(width) * height * 3;
  GISP_CHECK_ARG(rgb.size() == expected, "PNG of ", width, "x", height, " needs ", expected,
                 " RGB bytes, got ", rgb.size());
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(image, size, 0, rgb.data(), 0, nullptr)) {
    return absl::InternalError(absl::StrCat("libpng: ", image.message));
  }
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, rgb.data(), 0, nullptr)) {
    return absl::InternalError(absl::StrCat("libpng: ", image.message));
  }
  out.resize(size);
  return out;
}

absl::Status WritePng(const std::string& path, int width, int height,
                      const std::vector<uint8_t>& rgb) {
  auto bytes = EncodePng(width, height, rgb);
  if (!bytes.ok()) return Annotate(bytes.status(), path);
  return WriteFileAtomic(path, *bytes);
}

uint32_t DecodedPng::Pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= width || y >= height) return 0;
  const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
  return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
}

absl::StatusOr<DecodedPng> DecodePng(absl::string_view file) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, file.data(), file.size())) {
    return absl::InvalidArgumentError(absl::StrCat("not a readable PNG: ", image.message));
  }
  image.format = PNG_FORMAT_RGB;
  DecodedPng png;
  png.width = static_cast<int>(image.width);
  png.height = static_cast<int>(image.height);
  png.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, png.rgb.data(), 0, nullptr)) {
    png_image_free(&image);
    return absl::InvalidArgumentError(absl::StrCat("corrupt PNG: ", image.message));
  }
  return png;
}

}  // namespace plot
}  // namespace gisp
