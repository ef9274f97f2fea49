// An RGB raster with the few primitives a line chart needs: rectangles, anti-aliased thick line
// segments and discs (coverage from the distance to the ideal shape), and text coverage masks
// (font.h renders them with FreeType).
// Coordinates are pixel centres: pixel (i, j) covers [i - 0.5, i + 0.5) x [j - 0.5, j + 0.5).
#ifndef GISP_TOOLS_PLOT_CANVAS_H_
#define GISP_TOOLS_PLOT_CANVAS_H_

#include <cstdint>
#include <vector>

#include "tools/plot/font.h"

namespace gisp {
namespace plot {

// 0xRRGGBB.
using Rgb = uint32_t;

struct Rect {
  int left = 0, top = 0, right = 0,
      bottom = 0;  // inclusive-exclusive: [left, right) x [top, bottom)
  bool Contains(int x, int y) const { return x >= left && x < right && y >= top && y < bottom; }
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background);

  int width() const { return width_; }
  int height() const { return height_; }
  // [height, width, 3] row-major.
  const std::vector<uint8_t>& pixels() const { return rgb_; }
  Rgb Get(int x, int y) const;

  // Drawing outside `clip` (default: the whole canvas) is discarded.
  void SetClip(const Rect& clip) { clip_ = clip; }
  void ResetClip() { clip_ = Rect{0, 0, width_, height_}; }

  // Mixes `color` into pixel (x, y) with opacity `alpha` in [0, 1].
  void Blend(int x, int y, Rgb color, double alpha);
  void FillRect(const Rect& r, Rgb color);
  void StrokeRect(const Rect& r, Rgb color);  // 1-pixel outline just inside `r`
  void HLine(int x0, int x1, int y, Rgb color);
  void VLine(int x, int y0, int y1, Rgb color);

  // A segment of total thickness `width`, anti-aliased, with round ends (so polylines join).
  void Line(double x0, double y0, double x1, double y1, double width, Rgb color);
  void Disc(double cx, double cy, double radius, Rgb color);

  // `mask`'s pen origin placed at (x, baseline); `up` rotates it 90 degrees counter-clockwise
  // (reads bottom to top, for a y-axis label) about that point.
  void DrawText(int x, int baseline, const TextMask& mask, Rgb color, bool up);

 private:
  int width_;
  int height_;
  Rect clip_;
  std::vector<uint8_t> rgb_;
};

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_CANVAS_H_
