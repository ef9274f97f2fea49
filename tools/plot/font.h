// A 5x7 bitmap font for ASCII 32..126 (bit 4 is the leftmost column).
#ifndef GISP_TOOLS_PLOT_FONT_H_
#define GISP_TOOLS_PLOT_FONT_H_

#include <cstdint>

namespace gisp_plot {

extern const uint8_t kFont5x7[95][7];

}  // namespace gisp_plot

#endif  // GISP_TOOLS_PLOT_FONT_H_
