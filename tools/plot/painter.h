// What the chart layout (plot.cc) draws with, so the PNG raster and the SVG document come from one
// layout. Coordinates are pixel centres as in canvas.h: pixel (i, j) covers [i - 0.5, i + 0.5) x
// [j - 0.5, j + 0.5).
#ifndef GISP_TOOLS_PLOT_PAINTER_H_
#define GISP_TOOLS_PLOT_PAINTER_H_

#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/plot/canvas.h"

namespace gisp {
namespace plot {

enum class Anchor { kStart, kMiddle, kEnd };

class Painter {
 public:
  virtual ~Painter() = default;
  virtual void FillRect(const Rect& r, Rgb color) = 0;
  virtual void StrokeRect(const Rect& r, Rgb color) = 0;  // 1-pixel outline just inside `r`
  virtual void HLine(int x0, int x1, int y, Rgb color) = 0;
  virtual void VLine(int x, int y0, int y1, Rgb color) = 0;
  // Round joins and ends; a single point draws nothing.
  virtual void Polyline(const std::vector<std::pair<double, double>>& points, double width,
                        Rgb color) = 0;
  // `note` describes a data point (the SVG shows it as a tooltip); empty for decoration.
  virtual void Disc(double cx, double cy, double radius, Rgb color, absl::string_view note) = 0;
  // One line of text whose baseline starts, centres or ends (`anchor`) at (x, baseline); `up`
  // turns it 90 degrees counter-clockwise about that point.
  virtual void Text(int x, int baseline, absl::string_view text, int px, Rgb color, Anchor anchor,
                    bool up) = 0;
  // Everything drawn between the two calls is clipped to `clip` and, in the SVG, grouped under
  // the series label.
  virtual void BeginSeries(const Rect& clip, absl::string_view label) = 0;
  virtual void EndSeries() = 0;
};

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_PAINTER_H_
