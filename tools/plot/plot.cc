#include "tools/plot/plot.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"
#include "tools/plot/font.h"
#include "tools/plot/png.h"
#include "tools/plot/ticks.h"

namespace gisp {
namespace plot {
namespace {

constexpr Rgb kBackground = 0xFFFFFF;
constexpr Rgb kGrid = 0xE2E2E2;
constexpr Rgb kMinorGrid = 0xF2F2F2;
constexpr Rgb kAxis = 0x404040;
constexpr Rgb kText = 0x202020;
constexpr Rgb kLegendBorder = 0xB4B4B4;

bool Plottable(const Series& s, size_t i, bool log_y) {
  return std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && (!log_y || s.y[i] > 0);
}

std::string SeriesName(const Series& s, size_t index) {
  return s.label.empty() ? absl::StrCat("#", index) : absl::StrCat("'", s.label, "'");
}

absl::Status Validate(const std::vector<Series>& series, const ChartOptions& options) {
  GISP_CHECK_ARG(!series.empty(), "line chart '", options.title, "' has no series");
  GISP_CHECK_ARG(options.width >= 200 && options.width <= 8192 && options.height >= 150 &&
                     options.height <= 8192,
                 "chart size ", options.width, "x", options.height,
                 " is outside 200..8192 x 150..8192");
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    GISP_CHECK_ARG(s.x.size() == s.y.size(), "series ", SeriesName(s, k), " has ", s.x.size(),
                   " x values but ", s.y.size(), " y values");
    GISP_CHECK_ARG(!s.x.empty(), "series ", SeriesName(s, k), " is empty");
    bool any = false;
    for (size_t i = 0; i < s.x.size() && !any; ++i) any = Plottable(s, i, options.log_y);
    GISP_CHECK_ARG(any, "series ", SeriesName(s, k), " has no finite point",
                   options.log_y ? " with y > 0 (the y axis is logarithmic)" : "");
  }
  return absl::OkStatus();
}

// Widens [lo, hi] by 4% on each side (in log10 space for log axes) so markers at the extremes
// stay inside the frame; a single value gets a range around it.
void PadRange(bool log, double* lo, double* hi) {
  double a = log ? std::log10(*lo) : *lo;
  double b = log ? std::log10(*hi) : *hi;
  if (b - a <= 1e-12 * std::max(std::fabs(a), std::fabs(b))) {
    double half = log ? 0.5 : (a == 0 ? 1.0 : 0.1 * std::fabs(a));
    a -= half;
    b += half;
  }
  double pad = 0.04 * (b - a);
  a -= pad;
  b += pad;
  *lo = log ? std::pow(10.0, a) : a;
  *hi = log ? std::pow(10.0, b) : b;
}

// `text` shortened with "..." to at most `max_w` pixels at `scale`.
std::string FitText(const std::string& text, int max_w, int scale) {
  if (TextWidth(text, scale) <= max_w) return text;
  std::string cut = text;
  while (!cut.empty() && TextWidth(cut + "...", scale) > max_w) cut.pop_back();
  return cut + "...";
}

// Text sizes and spacing, all multiples of `u` so large charts scale up evenly.
struct Metrics {
  int u, text, title, tick_len, gap, pad;
};

struct Legend {
  Rect box;
  std::vector<size_t> entries;      // series indices with a label
  std::vector<std::string> labels;  // their labels, shortened to fit half the plot width
  int row_height = 0;
};

Legend PlaceLegend(const std::vector<Series>& series, const ChartFrame& frame, const Metrics& m,
                   bool log_y) {
  Legend legend;
  const Rect& p = frame.plot;
  const int label_room = std::max(6 * kGlyphAdvance * m.text, (p.right - p.left) / 2 - 46 * m.u);
  int max_w = 0;
  for (size_t k = 0; k < series.size(); ++k) {
    if (series[k].label.empty()) continue;
    legend.entries.push_back(k);
    legend.labels.push_back(FitText(series[k].label, label_room, m.text));
    max_w = std::max(max_w, TextWidth(legend.labels.back(), m.text));
  }
  if (legend.entries.empty()) return legend;
  legend.row_height = TextHeight(m.text) + 4 * m.u;
  const int w = 8 * m.u + 24 * m.u + 6 * m.u + max_w + 8 * m.u;
  const int h = static_cast<int>(legend.entries.size()) * legend.row_height + 10 * m.u;
  const int inset = 8 * m.u;
  const Rect corners[4] = {
      {p.right - inset - w, p.top + inset, p.right - inset, p.top + inset + h},
      {p.left + inset, p.top + inset, p.left + inset + w, p.top + inset + h},
      {p.right - inset - w, p.bottom - inset - h, p.right - inset, p.bottom - inset},
      {p.left + inset, p.bottom - inset - h, p.left + inset + w, p.bottom - inset},
  };
  // Put the legend in the corner that hides the least data: count samples along every line.
  int best = 0;
  long best_hits = -1;
  for (int c = 0; c < 4; ++c) {
    Rect r = corners[c];
    r.left -= 4 * m.u;
    r.top -= 4 * m.u;
    r.right += 4 * m.u;
    r.bottom += 4 * m.u;
    long hits = 0;
    for (const Series& s : series) {
      bool have_prev = false;
      double px = 0, py = 0;
      for (size_t i = 0; i < s.x.size(); ++i) {
        if (!Plottable(s, i, log_y)) {
          have_prev = false;
          continue;
        }
        double x = frame.PixelX(s.x[i]), y = frame.PixelY(s.y[i]);
        int steps = have_prev ? static_cast<int>(std::hypot(x - px, y - py) / 2) + 1 : 1;
        for (int t = 1; t <= steps; ++t) {
          double f = static_cast<double>(t) / steps;
          double sx = have_prev ? px + (x - px) * f : x, sy = have_prev ? py + (y - py) * f : y;
          if (r.Contains(static_cast<int>(std::lround(sx)), static_cast<int>(std::lround(sy)))) {
            ++hits;
          }
        }
        have_prev = true;
        px = x;
        py = y;
      }
    }
    if (best_hits < 0 || hits < best_hits) {
      best_hits = hits;
      best = c;
    }
  }
  legend.box = corners[best];
  return legend;
}

void DrawLegend(const std::vector<Series>& series, const Legend& legend, const Metrics& m,
                Canvas* canvas) {
  if (legend.entries.empty()) return;
  canvas->FillRect(legend.box, kBackground);
  canvas->StrokeRect(legend.box, kLegendBorder);
  int y = legend.box.top + 5 * m.u + 2 * m.u;
  for (size_t e = 0; e < legend.entries.size(); ++e) {
    const Series& s = series[legend.entries[e]];
    double cy = y + 3.5 * m.u;  // between the middle of capitals (row 3) and of lower case (row 4)
    double x0 = legend.box.left + 8 * m.u, x1 = x0 + 24 * m.u;
    canvas->Line(x0, cy, x1, cy, 2 * m.u, s.rgb);
    if (s.markers) canvas->Disc((x0 + x1) / 2, cy, 3.5 * m.u, s.rgb);
    canvas->Text(static_cast<int>(x1) + 6 * m.u, y, legend.labels[e], kText, m.text);
    y += legend.row_height;
  }
}

void DrawSeries(const Series& s, const ChartFrame& frame, const Metrics& m, Canvas* canvas) {
  const double width = 2 * m.u;
  const size_t n = s.x.size();
  for (size_t i = 0; i < n; ++i) {
    if (!Plottable(s, i, frame.log_y)) continue;
    double x = frame.PixelX(s.x[i]), y = frame.PixelY(s.y[i]);
    bool prev = i > 0 && Plottable(s, i - 1, frame.log_y);
    bool next = i + 1 < n && Plottable(s, i + 1, frame.log_y);
    if (prev) {
      canvas->Line(frame.PixelX(s.x[i - 1]), frame.PixelY(s.y[i - 1]), x, y, width, s.rgb);
    } else if (!next && !s.markers) {
      canvas->Disc(x, y, width, s.rgb);  // an isolated point would otherwise be invisible
    }
  }
  if (!s.markers) return;
  for (size_t i = 0; i < n; ++i) {
    if (Plottable(s, i, frame.log_y)) {
      canvas->Disc(frame.PixelX(s.x[i]), frame.PixelY(s.y[i]), 3.5 * m.u, s.rgb);
    }
  }
}

}  // namespace

uint32_t SeriesColor(int i) {
  static constexpr uint32_t kPalette[8] = {0x1F77B4, 0xD62728, 0x2CA02C, 0xFF7F0E,
                                           0x9467BD, 0x8C564B, 0xE377C2, 0x17BECF};
  return kPalette[((i % 8) + 8) % 8];
}

double ChartFrame::PixelX(double x) const {
  double t = (x - x_lo) / (x_hi - x_lo);
  return plot.left + t * (plot.right - 1 - plot.left);
}

double ChartFrame::PixelY(double y) const {
  double t = log_y ? (std::log10(y) - std::log10(y_lo)) / (std::log10(y_hi) - std::log10(y_lo))
                   : (y - y_lo) / (y_hi - y_lo);
  return plot.bottom - 1 - t * (plot.bottom - 1 - plot.top);
}

absl::StatusOr<RenderedChart> RenderLineChart(const std::vector<Series>& series,
                                              const ChartOptions& options) {
  GISP_RETURN_IF_ERROR(Validate(series, options));
  const int W = options.width, H = options.height;
  Metrics m;
  m.u = std::max(1, static_cast<int>(std::lround(std::min(W / 800.0, H / 500.0))));
  m.text = m.u;
  m.title = 2 * m.u;
  m.tick_len = 5 * m.u;
  m.gap = 4 * m.u;
  m.pad = 12 * m.u;

  ChartFrame frame;
  frame.log_y = options.log_y;
  bool first = true;
  for (const Series& s : series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!Plottable(s, i, options.log_y)) continue;
      if (first) {
        frame.x_lo = frame.x_hi = s.x[i];
        frame.y_lo = frame.y_hi = s.y[i];
        first = false;
      }
      frame.x_lo = std::min(frame.x_lo, s.x[i]);
      frame.x_hi = std::max(frame.x_hi, s.x[i]);
      frame.y_lo = std::min(frame.y_lo, s.y[i]);
      frame.y_hi = std::max(frame.y_hi, s.y[i]);
    }
  }
  PadRange(false, &frame.x_lo, &frame.x_hi);
  PadRange(options.log_y, &frame.y_lo, &frame.y_hi);
  const std::vector<double> x_ticks = LinearTicks(frame.x_lo, frame.x_hi);
  const std::vector<double> y_ticks =
      options.log_y ? LogTicks(frame.y_lo, frame.y_hi) : LinearTicks(frame.y_lo, frame.y_hi);
  const std::vector<std::string> x_labels = FormatTicks(x_ticks, true);
  const std::vector<std::string> y_labels = FormatTicks(y_ticks, !options.log_y);

  // Margins follow from the label sizes; the plot area takes the rest.
  const int text_h = TextHeight(m.text);
  int y_label_w = 0;
  for (const std::string& l : y_labels) y_label_w = std::max(y_label_w, TextWidth(l, m.text));
  const int left =
      m.pad + (options.y_label.empty() ? 0 : text_h + m.pad) + y_label_w + m.gap + m.tick_len;
  const int top = m.pad + (options.title.empty() ? text_h / 2 : TextHeight(m.title) + m.pad);
  const int bottom =
      m.tick_len + m.gap + text_h + (options.x_label.empty() ? 0 : m.pad + text_h) + m.pad;
  const int last_x_w = x_labels.empty() ? 0 : TextWidth(x_labels.back(), m.text);
  const int right = std::max(2 * m.pad, last_x_w / 2 + m.pad);
  frame.plot = Rect{left, top, W - right, H - bottom};
  GISP_CHECK_ARG(
      frame.plot.right - frame.plot.left >= 40 && frame.plot.bottom - frame.plot.top >= 40,
      "chart '", options.title, "' of ", W, "x", H, " leaves no room to plot");
  const Rect& p = frame.plot;

  Canvas canvas(W, H, kBackground);
  // Grid first, so the data and the frame lie on top of it.
  if (options.log_y) {
    for (double t : LogMinorTicks(frame.y_lo, frame.y_hi)) {
      canvas.HLine(p.left, p.right - 1, static_cast<int>(std::lround(frame.PixelY(t))), kMinorGrid);
    }
  }
  for (double t : x_ticks) {
    canvas.VLine(static_cast<int>(std::lround(frame.PixelX(t))), p.top, p.bottom - 1, kGrid);
  }
  for (double t : y_ticks) {
    canvas.HLine(p.left, p.right - 1, static_cast<int>(std::lround(frame.PixelY(t))), kGrid);
  }
  canvas.StrokeRect(Rect{p.left - 1, p.top - 1, p.right + 1, p.bottom + 1}, kAxis);
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    int px = static_cast<int>(std::lround(frame.PixelX(x_ticks[i])));
    canvas.VLine(px, p.bottom, p.bottom + m.tick_len, kAxis);
    int w = TextWidth(x_labels[i], m.text);
    int tx = std::clamp(px - w / 2, 0, W - w);
    canvas.Text(tx, p.bottom + m.tick_len + m.gap, x_labels[i], kText, m.text);
  }
  for (size_t i = 0; i < y_ticks.size(); ++i) {
    int py = static_cast<int>(std::lround(frame.PixelY(y_ticks[i])));
    canvas.HLine(p.left - 1 - m.tick_len, p.left - 1, py, kAxis);
    int w = TextWidth(y_labels[i], m.text);
    canvas.Text(p.left - 1 - m.tick_len - m.gap - w, py - 3 * m.text, y_labels[i], kText, m.text);
  }
  // Titles and axis labels that do not fit are shrunk (the title) and then shortened.
  if (!options.title.empty()) {
    int scale = TextWidth(options.title, m.title) <= W - 2 * m.pad ? m.title : m.text;
    std::string title = FitText(options.title, W - 2 * m.pad, scale);
    int w = TextWidth(title, scale);
    int tx = std::clamp((p.left + p.right) / 2 - w / 2, m.pad, std::max(m.pad, W - m.pad - w));
    // A title shrunk to text size keeps its baseline where the big one would have had it.
    canvas.Text(tx, m.pad + TextHeight(m.title) - TextHeight(scale), title, kText, scale);
  }
  if (!options.x_label.empty()) {
    std::string label = FitText(options.x_label, W - 2 * m.pad, m.text);
    int w = TextWidth(label, m.text);
    int tx = std::clamp((p.left + p.right) / 2 - w / 2, m.pad, std::max(m.pad, W - m.pad - w));
    canvas.Text(tx, p.bottom + m.tick_len + m.gap + text_h + m.pad, label, kText, m.text);
  }
  if (!options.y_label.empty()) {
    std::string label = FitText(options.y_label, H - 2 * m.pad, m.text);
    int h = TextWidth(label, m.text);
    int ty = std::clamp((p.top + p.bottom) / 2 - h / 2, m.pad, std::max(m.pad, H - m.pad - h));
    canvas.TextUp(m.pad, ty, label, kText, m.text);
  }

  canvas.SetClip(p);
  for (const Series& s : series) DrawSeries(s, frame, m, &canvas);
  canvas.ResetClip();
  Legend legend = PlaceLegend(series, frame, m, options.log_y);
  DrawLegend(series, legend, m, &canvas);

  RenderedChart chart;
  chart.width = W;
  chart.height = H;
  chart.rgb = canvas.pixels();
  chart.frame = frame;
  chart.legend = legend.box;
  return chart;
}

absl::Status WriteLineChart(const std::string& path, const std::vector<Series>& series,
                            const ChartOptions& options) {
  auto chart = RenderLineChart(series, options);
  if (!chart.ok()) return Annotate(chart.status(), absl::StrCat("chart ", path));
  return WritePng(path, chart->width, chart->height, chart->rgb);
}

}  // namespace plot
}  // namespace gisp
