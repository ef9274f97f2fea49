// A built-in 5x9 bitmap font for chart text, printable ASCII (32..126) only. Glyphs were drawn for
// gisp: capitals and digits use rows 0..6, lower case has its x-height at rows 2..6 and
// descenders in rows 7..8. Each row is a 5-bit mask, bit 4 = leftmost column.
#ifndef GISP_TOOLS_PLOT_FONT_H_
#define GISP_TOOLS_PLOT_FONT_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace gisp {
namespace plot {

constexpr int kGlyphWidth = 5;
constexpr int kGlyphHeight = 9;
constexpr int kGlyphAdvance = 6;  // one blank column between characters

using GlyphRows = std::array<uint8_t, kGlyphHeight>;

// The glyph for `c`; characters outside 32..126 render as '?'.
const GlyphRows& Glyph(char c);

// Width in pixels of `text` drawn at integer `scale` (no trailing blank column).
int TextWidth(absl::string_view text, int scale);
inline int TextHeight(int scale) { return kGlyphHeight * scale; }

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_FONT_H_
