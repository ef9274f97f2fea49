#include "tools/plot/canvas.h"

#include <algorithm>
#include <cmath>

namespace gisp {
namespace plot {

Canvas::Canvas(int width, int height, Rgb background)
    : width_(width), height_(height), clip_{0, 0, width, height} {
  rgb_.resize(static_cast<size_t>(width) * height * 3);
  FillRect(clip_, background);
}

Rgb Canvas::Get(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return 0;
  const uint8_t* p = &rgb_[(static_cast<size_t>(y) * width_ + x) * 3];
  return (Rgb{p[0]} << 16) | (Rgb{p[1]} << 8) | p[2];
}

void Canvas::Blend(int x, int y, Rgb color, double alpha) {
  if (!clip_.Contains(x, y) || alpha <= 0) return;
  alpha = std::min(alpha, 1.0);
  uint8_t* p = &rgb_[(static_cast<size_t>(y) * width_ + x) * 3];
  for (int c = 0; c < 3; ++c) {
    double src = (color >> (16 - 8 * c)) & 0xFF;
    p[c] = static_cast<uint8_t>(std::lround(p[c] + (src - p[c]) * alpha));
  }
}

void Canvas::FillRect(const Rect& r, Rgb color) {
  for (int y = std::max(r.top, clip_.top); y < std::min(r.bottom, clip_.bottom); ++y) {
    for (int x = std::max(r.left, clip_.left); x < std::min(r.right, clip_.right); ++x) {
      Blend(x, y, color, 1.0);
    }
  }
}

void Canvas::StrokeRect(const Rect& r, Rgb color) {
  HLine(r.left, r.right - 1, r.top, color);
  HLine(r.left, r.right - 1, r.bottom - 1, color);
  VLine(r.left, r.top, r.bottom - 1, color);
  VLine(r.right - 1, r.top, r.bottom - 1, color);
}

void Canvas::HLine(int x0, int x1, int y, Rgb color) {
  for (int x = std::min(x0, x1); x <= std::max(x0, x1); ++x) Blend(x, y, color, 1.0);
}

void Canvas::VLine(int x, int y0, int y1, Rgb color) {
  for (int y = std::min(y0, y1); y <= std::max(y0, y1); ++y) Blend(x, y, color, 1.0);
}

void Canvas::Line(double x0, double y0, double x1, double y1, double width, Rgb color) {
  const double half = width / 2;
  const double dx = x1 - x0, dy = y1 - y0;
  const double len2 = dx * dx + dy * dy;
  int xa = static_cast<int>(std::floor(std::min(x0, x1) - half - 1));
  int xb = static_cast<int>(std::ceil(std::max(x0, x1) + half + 1));
  int ya = static_cast<int>(std::floor(std::min(y0, y1) - half - 1));
  int yb = static_cast<int>(std::ceil(std::max(y0, y1) + half + 1));
  xa = std::max(xa, clip_.left);
  ya = std::max(ya, clip_.top);
  xb = std::min(xb, clip_.right - 1);
  yb = std::min(yb, clip_.bottom - 1);
  for (int y = ya; y <= yb; ++y) {
    for (int x = xa; x <= xb; ++x) {
      // Distance from the pixel centre to the segment; coverage falls from 1 to 0 over the one
      // pixel straddling the edge, which approximates box-filtered area coverage.
      double t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0;
      t = std::clamp(t, 0.0, 1.0);
      double ex = x - (x0 + t * dx), ey = y - (y0 + t * dy);
      double coverage = half + 0.5 - std::sqrt(ex * ex + ey * ey);
      if (coverage > 0) Blend(x, y, color, coverage);
    }
  }
}

void Canvas::Disc(double cx, double cy, double radius, Rgb color) {
  Line(cx, cy, cx, cy, 2 * radius, color);
}

void Canvas::DrawText(int x, int baseline, const TextMask& mask, Rgb color, bool up) {
  for (int r = 0; r < mask.height; ++r) {
    for (int col = 0; col < mask.width; ++col) {
      const uint8_t a = mask.alpha[static_cast<size_t>(r) * mask.width + col];
      if (a == 0) continue;
      const int u = col - mask.origin, v = r - mask.ascent;  // along the text, below the baseline
      if (up) {
        Blend(x + v, baseline - u, color, a / 255.0);
      } else {
        Blend(x + u, baseline + v, color, a / 255.0);
      }
    }
  }
}

}  // namespace plot
}  // namespace gisp
