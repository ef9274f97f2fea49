#include "tools/plot/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tools/plot/font.h"
#include "tools/plot/png.h"

namespace gisp_plot {
namespace {

class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), rgb_(static_cast<size_t>(w) * h * 3, 255) {}

  void Set(int x, int y, uint32_t c) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    uint8_t* p = &rgb_[(static_cast<size_t>(y) * w_ + x) * 3];
    p[0] = (c >> 16) & 0xff;
    p[1] = (c >> 8) & 0xff;
    p[2] = c & 0xff;
  }

  void Fill(int x0, int y0, int x1, int y1, uint32_t c) {
    for (int y = y0; y <= y1; ++y) {
      for (int x = x0; x <= x1; ++x) Set(x, y, c);
    }
  }

  // Bresenham with a square pen of `width` pixels.
  void Line(int x0, int y0, int x1, int y1, uint32_t c, int width = 1) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    while (true) {
      Fill(x0 - width / 2, y0 - width / 2, x0 + (width - 1) / 2, y0 + (width - 1) / 2, c);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  // Text at (x, y) top-left, glyphs scaled by `s`; returns the width drawn.
  int Text(int x, int y, const std::string& text, uint32_t c, int s = 2) {
    int cx = x;
    for (unsigned char ch : text) {
      const int code = ch >= 32 && ch < 127 ? ch : '?';
      const uint8_t* g = kFont5x7[code - 32];
      for (int r = 0; r < 7; ++r) {
        for (int col = 0; col < 5; ++col) {
          if (g[r] & (1 << (4 - col)))
            Fill(cx + col * s, y + r * s, cx + col * s + s - 1, y + r * s + s - 1, c);
        }
      }
      cx += 6 * s;
    }
    return cx - x;
  }
  static int TextWidth(const std::string& text, int s = 2) {
    return static_cast<int>(text.size()) * 6 * s;
  }

  const std::vector<uint8_t>& rgb() const { return rgb_; }

 private:
  int w_, h_;
  std::vector<uint8_t> rgb_;
};

std::string Format(double v) {
  char buf[32];
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3)) {
    std::snprintf(buf, sizeof(buf), "%.0e", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.6g", v);
  }
  return buf;
}

}  // namespace

std::vector<double> LinearTicks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> ticks;
  // Integer multiples of the step (no accumulated rounding).
  const long first = static_cast<long>(std::ceil(lo / step - 1e-9));
  const long last = static_cast<long>(std::floor(hi / step + 1e-9));
  for (long k = first; k <= last; ++k) ticks.push_back(static_cast<double>(k) * step);
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0) || !(hi > lo)) return ticks;
  // Less than a decade: decade ticks would leave the axis nearly bare; use nice linear values.
  if (hi / lo < 10) return LinearTicks(lo, hi, 5);
  const bool minor = std::log10(hi / lo) < 2.0;
  for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= std::ceil(std::log10(hi)); ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      if (m != 1.0 && !minor) continue;
      const double t = m * std::pow(10.0, e);
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push_back(t);
    }
  }
  return ticks;
}

std::string WriteLineChart(const std::string& path, const std::vector<Series>& series,
                           const ChartOptions& o) {
  if (series.empty()) return "chart has no series";
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const Series& s : series) {
    if (s.x.size() != s.y.size()) return "series \"" + s.label + "\": x and y differ in length";
    bool any = false;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (o.log_y && s.y[i] <= 0)) continue;
      any = true;
      xlo = std::min(xlo, s.x[i]);
      xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]);
      yhi = std::max(yhi, s.y[i]);
    }
    if (!any) return "series \"" + s.label + "\" has no finite points";
  }
  if (xhi == xlo) {
    xlo -= 1;
    xhi += 1;
  }
  if (o.log_y) {
    if (yhi / ylo < 1.5) {
      ylo /= 1.25;
      yhi *= 1.25;
    }
    ylo /= 1.05;
    yhi *= 1.05;
  } else {
    const double pad = yhi > ylo ? 0.05 * (yhi - ylo) : 1.0;
    ylo -= pad;
    yhi += pad;
  }
  const double xpad = 0.03 * (xhi - xlo);
  xlo -= xpad;
  xhi += xpad;

  Canvas c(o.width, o.height);
  const int left = 90, right = o.width - 20, top = 70, bottom = o.height - 60;
  auto px = [&](double x) {
    return left + static_cast<int>(std::lround((x - xlo) / (xhi - xlo) * (right - left)));
  };
  auto py = [&](double y) {
    const double f = o.log_y ? (std::log(y) - std::log(ylo)) / (std::log(yhi) - std::log(ylo))
                             : (y - ylo) / (yhi - ylo);
    return bottom - static_cast<int>(std::lround(f * (bottom - top)));
  };
  const uint32_t grid = 0xe6e6e6, axis = 0x333333, text = 0x222222;
  for (double t : LinearTicks(xlo, xhi)) {
    c.Line(px(t), top, px(t), bottom, grid);
    const std::string label = Format(t);
    c.Text(px(t) - Canvas::TextWidth(label) / 2, bottom + 8, label, text);
  }
  const std::vector<double> yt = o.log_y ? LogTicks(ylo, yhi) : LinearTicks(ylo, yhi);
  for (double t : yt) {
    c.Line(left, py(t), right, py(t), grid);
    const std::string label = Format(t);
    c.Text(left - 8 - Canvas::TextWidth(label), py(t) - 7, label, text);
  }
  c.Line(left, top, left, bottom, axis, 2);
  c.Line(left, bottom, right, bottom, axis, 2);
  c.Text((o.width - Canvas::TextWidth(o.title)) / 2, 12, o.title, text);
  c.Text((left + right - Canvas::TextWidth(o.x_label)) / 2, o.height - 26, o.x_label, text);
  c.Text(8, top - 28, o.y_label + (o.log_y ? " (log scale)" : ""), text);
  int legend_y = top + 8;
  for (const Series& s : series) {
    int last_x = -1, last_y = -1;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (o.log_y && s.y[i] <= 0)) continue;
      const int x = px(s.x[i]), y = py(s.y[i]);
      if (last_x >= 0) c.Line(last_x, last_y, x, y, s.rgb, 2);
      if (s.markers) c.Fill(x - 3, y - 3, x + 3, y + 3, s.rgb);
      last_x = x;
      last_y = y;
    }
    const int lx = right - Canvas::TextWidth(s.label) - 40;
    c.Line(lx, legend_y + 7, lx + 24, legend_y + 7, s.rgb, 3);
    c.Text(lx + 32, legend_y, s.label, text);
    legend_y += 20;
  }
  return WritePng(path, o.width, o.height, c.rgb());
}

}  // namespace gisp_plot
