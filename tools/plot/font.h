// Chart text through FreeType (Debian's libfreetype6) and a TrueType font file, by default DejaVu
// Sans from Debian's fonts-dejavu-core. Text is UTF-8; bytes that are not valid UTF-8 and
// characters the font lacks render as the font's missing-glyph box. Sizes are pixels per em.
#ifndef GISP_TOOLS_PLOT_FONT_H_
#define GISP_TOOLS_PLOT_FONT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {
namespace plot {

inline constexpr char kDefaultFontPath[] = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// Anti-aliased coverage of a line of text: row `ascent` is the baseline and column `origin` the
// pen's start, so glyph parts left of the pen or below the baseline are kept.
struct TextMask {
  int width = 0, height = 0, ascent = 0, origin = 0;
  std::vector<uint8_t> alpha;  // [height, width], 0..255
};

class Font {
 public:
  // Errors name the file and the Debian package that provides the default font.
  static absl::StatusOr<std::unique_ptr<Font>> Load(const std::string& path);
  ~Font();
  Font(const Font&) = delete;
  Font& operator=(const Font&) = delete;

  const std::string& family() const { return family_; }
  // Above and below the baseline, in whole pixels, at `px` pixels per em.
  int Ascent(int px);
  int Descent(int px);
  int LineHeight(int px) { return Ascent(px) + Descent(px); }
  // Sum of the hinted advances (what Render's pen moves).
  int Width(absl::string_view text, int px);
  TextMask Render(absl::string_view text, int px);

 private:
  struct Impl;
  explicit Font(std::unique_ptr<Impl> impl);
  bool SetSize(int px);
  std::unique_ptr<Impl> impl_;
  std::string family_;
  std::map<std::pair<int, uint32_t>, int> advances_;  // (px, glyph index) -> pixels
};

// Code points of UTF-8 text; an invalid byte becomes U+FFFD.
std::vector<uint32_t> DecodeUtf8(absl::string_view text);

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_FONT_H_
