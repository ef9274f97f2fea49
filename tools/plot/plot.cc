#include "tools/plot/plot.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "tools/plot/font.h"
#include "tools/plot/painter.h"
#include "tools/plot/png_io.h"
#include "tools/plot/svg.h"
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

// `text` shortened with "..." to at most `max_w` pixels at `px`.
std::string FitText(Font* font, const std::string& text, int max_w, int px) {
  if (font->Width(text, px) <= max_w) return text;
  std::string cut = text;
  while (!cut.empty() && font->Width(cut + "...", px) > max_w) {
    cut.pop_back();
    while (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80) {
      cut.pop_back();  // whole UTF-8 characters only
    }
    if (!cut.empty() && static_cast<unsigned char>(cut.back()) >= 0xC0) cut.pop_back();
  }
  return cut + "...";
}

// Text sizes (pixels per em) and spacing, all multiples of `u` so large charts scale up evenly.
struct Metrics {
  int u, text, title, tick_len, gap, pad;
  int mid;  // baseline to the middle of digits and capitals at `text` size
};

// The raster: a Canvas plus the font for its text.
class RasterPainter : public Painter {
 public:
  RasterPainter(int width, int height, Rgb background, Font* font)
      : canvas_(width, height, background), font_(font) {}
  const Canvas& canvas() const { return canvas_; }
  void FillRect(const Rect& r, Rgb color) override { canvas_.FillRect(r, color); }
  void StrokeRect(const Rect& r, Rgb color) override { canvas_.StrokeRect(r, color); }
  void HLine(int x0, int x1, int y, Rgb color) override { canvas_.HLine(x0, x1, y, color); }
  void VLine(int x, int y0, int y1, Rgb color) override { canvas_.VLine(x, y0, y1, color); }
  void Polyline(const std::vector<std::pair<double, double>>& points, double width,
                Rgb color) override {
    for (size_t i = 1; i < points.size(); ++i) {
      canvas_.Line(points[i - 1].first, points[i - 1].second, points[i].first, points[i].second,
                   width, color);
    }
  }
  void Disc(double cx, double cy, double radius, Rgb color, absl::string_view) override {
    canvas_.Disc(cx, cy, radius, color);
  }
  void Text(int x, int baseline, absl::string_view text, int px, Rgb color, Anchor anchor,
            bool up) override {
    const int w = font_->Width(text, px);
    const int back = anchor == Anchor::kStart ? 0 : anchor == Anchor::kMiddle ? w / 2 : w;
    const TextMask mask = font_->Render(text, px);
    if (up) {
      canvas_.DrawText(x, baseline + back, mask, color, true);
    } else {
      canvas_.DrawText(x - back, baseline, mask, color, false);
    }
  }
  void BeginSeries(const Rect& clip, absl::string_view) override { canvas_.SetClip(clip); }
  void EndSeries() override { canvas_.ResetClip(); }

 private:
  Canvas canvas_;
  Font* font_;
};

// Text centred on `centre` unless that would cross [lo, hi); then pushed inside, start-anchored.
void CentredText(Painter* painter, Font* font, int centre, int lo, int hi, int baseline,
                 const std::string& text, int px, Rgb color) {
  const int w = font->Width(text, px);
  const int left = std::clamp(centre - w / 2, lo, std::max(lo, hi - w));
  if (left == centre - w / 2) {
    painter->Text(centre, baseline, text, px, color, Anchor::kMiddle, false);
  } else {
    painter->Text(left, baseline, text, px, color, Anchor::kStart, false);
  }
}

struct Legend {
  Rect box;
  std::vector<size_t> entries;      // series indices with a label
  std::vector<std::string> labels;  // their labels, shortened to fit half the plot width
  int row_height = 0;
};

Legend PlaceLegend(const std::vector<Series>& series, const ChartFrame& frame, const Metrics& m,
                   bool log_y, Font* font) {
  Legend legend;
  const Rect& p = frame.plot;
  const int label_room = std::max(3 * m.text, (p.right - p.left) / 2 - 46 * m.u);
  int max_w = 0;
  for (size_t k = 0; k < series.size(); ++k) {
    if (series[k].label.empty()) continue;
    legend.entries.push_back(k);
    legend.labels.push_back(FitText(font, series[k].label, label_room, m.text));
    max_w = std::max(max_w, font->Width(legend.labels.back(), m.text));
  }
  if (legend.entries.empty()) return legend;
  legend.row_height = font->LineHeight(m.text) + 4 * m.u;
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
                Font* font, Painter* painter) {
  if (legend.entries.empty()) return;
  painter->FillRect(legend.box, kBackground);
  painter->StrokeRect(legend.box, kLegendBorder);
  int baseline = legend.box.top + 5 * m.u + 2 * m.u + font->Ascent(m.text);
  for (size_t e = 0; e < legend.entries.size(); ++e) {
    const Series& s = series[legend.entries[e]];
    double cy = baseline - m.mid;
    double x0 = legend.box.left + 8 * m.u, x1 = x0 + 24 * m.u;
    painter->Polyline({{x0, cy}, {x1, cy}}, 2 * m.u, s.rgb);
    if (s.markers) painter->Disc((x0 + x1) / 2, cy, 3.5 * m.u, s.rgb, "");
    painter->Text(static_cast<int>(x1) + 6 * m.u, baseline, legend.labels[e], m.text, kText,
                  Anchor::kStart, false);
    baseline += legend.row_height;
  }
}

std::string PointNote(const Series& s, size_t i, const ChartOptions& options) {
  return absl::StrFormat("%s%s%s %.6g, %s %.6g", s.label, s.label.empty() ? "" : ": ",
                         options.x_label.empty() ? "x" : options.x_label, s.x[i],
                         options.y_label.empty() ? "y" : options.y_label, s.y[i]);
}

void DrawSeries(const Series& s, const ChartFrame& frame, const Metrics& m,
                const ChartOptions& options, Painter* painter) {
  const double width = 2 * m.u;
  const size_t n = s.x.size();
  std::vector<std::pair<double, double>> run;  // consecutive plottable points
  auto flush = [&] {
    if (run.size() >= 2) {
      painter->Polyline(run, width, s.rgb);
    } else if (run.size() == 1 && !s.markers) {
      // An isolated point would otherwise be invisible.
      painter->Disc(run[0].first, run[0].second, width, s.rgb, "");
    }
    run.clear();
  };
  for (size_t i = 0; i < n; ++i) {
    if (!Plottable(s, i, frame.log_y)) {
      flush();
      continue;
    }
    run.emplace_back(frame.PixelX(s.x[i]), frame.PixelY(s.y[i]));
  }
  flush();
  if (!s.markers) return;
  for (size_t i = 0; i < n; ++i) {
    if (Plottable(s, i, frame.log_y)) {
      painter->Disc(frame.PixelX(s.x[i]), frame.PixelY(s.y[i]), 3.5 * m.u, s.rgb,
                    PointNote(s, i, options));
    }
  }
}

// Lays the chart out for `options.width` x `options.height` (text measured with `font`) and draws
// it with `painter`; the frame and the legend box are returned through the pointers.
absl::Status DrawChart(const std::vector<Series>& series, const ChartOptions& options, Font* font,
                       Painter* painter, ChartFrame* frame_out, Rect* legend_out) {
  const int W = options.width, H = options.height;
  Metrics m;
  m.u = std::max(1, static_cast<int>(std::lround(std::min(W / 800.0, H / 500.0))));
  m.text = 12 * m.u;
  m.title = 16 * m.u;
  m.tick_len = 5 * m.u;
  m.gap = 4 * m.u;
  m.pad = 12 * m.u;
  m.mid = static_cast<int>(std::lround(0.36 * m.text));

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
  const int text_h = font->LineHeight(m.text);
  const int ascent = font->Ascent(m.text);
  int y_label_w = 0;
  for (const std::string& l : y_labels) y_label_w = std::max(y_label_w, font->Width(l, m.text));
  const int left =
      m.pad + (options.y_label.empty() ? 0 : text_h + m.pad) + y_label_w + m.gap + m.tick_len;
  const int top = m.pad + (options.title.empty() ? text_h / 2 : font->LineHeight(m.title) + m.pad);
  const int bottom =
      m.tick_len + m.gap + text_h + (options.x_label.empty() ? 0 : m.pad + text_h) + m.pad;
  const int last_x_w = x_labels.empty() ? 0 : font->Width(x_labels.back(), m.text);
  const int right = std::max(2 * m.pad, last_x_w / 2 + m.pad);
  frame.plot = Rect{left, top, W - right, H - bottom};
  GISP_CHECK_ARG(
      frame.plot.right - frame.plot.left >= 40 && frame.plot.bottom - frame.plot.top >= 40,
      "chart '", options.title, "' of ", W, "x", H, " leaves no room to plot");
  const Rect& p = frame.plot;

  painter->FillRect(Rect{0, 0, W, H}, kBackground);
  // Grid first, so the data and the frame lie on top of it.
  if (options.log_y) {
    for (double t : LogMinorTicks(frame.y_lo, frame.y_hi)) {
      painter->HLine(p.left, p.right - 1, static_cast<int>(std::lround(frame.PixelY(t))),
                     kMinorGrid);
    }
  }
  for (double t : x_ticks) {
    painter->VLine(static_cast<int>(std::lround(frame.PixelX(t))), p.top, p.bottom - 1, kGrid);
  }
  for (double t : y_ticks) {
    painter->HLine(p.left, p.right - 1, static_cast<int>(std::lround(frame.PixelY(t))), kGrid);
  }
  painter->StrokeRect(Rect{p.left - 1, p.top - 1, p.right + 1, p.bottom + 1}, kAxis);
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    int px = static_cast<int>(std::lround(frame.PixelX(x_ticks[i])));
    painter->VLine(px, p.bottom, p.bottom + m.tick_len, kAxis);
    CentredText(painter, font, px, 0, W, p.bottom + m.tick_len + m.gap + ascent, x_labels[i],
                m.text, kText);
  }
  for (size_t i = 0; i < y_ticks.size(); ++i) {
    int py = static_cast<int>(std::lround(frame.PixelY(y_ticks[i])));
    painter->HLine(p.left - 1 - m.tick_len, p.left - 1, py, kAxis);
    painter->Text(p.left - 1 - m.tick_len - m.gap, py + m.mid, y_labels[i], m.text, kText,
                  Anchor::kEnd, false);
  }
  // Titles and axis labels that do not fit are shrunk (the title) and then shortened.
  if (!options.title.empty()) {
    int px = font->Width(options.title, m.title) <= W - 2 * m.pad ? m.title : m.text;
    std::string title = FitText(font, options.title, W - 2 * m.pad, px);
    // A title shrunk to text size keeps the baseline the big one would have had.
    CentredText(painter, font, (p.left + p.right) / 2, m.pad, W - m.pad,
                m.pad + font->Ascent(m.title), title, px, kText);
  }
  if (!options.x_label.empty()) {
    std::string label = FitText(font, options.x_label, W - 2 * m.pad, m.text);
    CentredText(painter, font, (p.left + p.right) / 2, m.pad, W - m.pad,
                p.bottom + m.tick_len + m.gap + text_h + m.pad + ascent, label, m.text, kText);
  }
  if (!options.y_label.empty()) {
    std::string label = FitText(font, options.y_label, H - 2 * m.pad, m.text);
    int h = font->Width(label, m.text);
    int centre = std::clamp((p.top + p.bottom) / 2, m.pad + h / 2,
                            std::max(m.pad + h / 2, H - m.pad - (h - h / 2)));
    // Turned counter-clockwise, the glyph tops face left: the baseline is `ascent` to the right.
    painter->Text(m.pad + ascent, centre, label, m.text, kText, Anchor::kMiddle, true);
  }

  for (const Series& s : series) {
    painter->BeginSeries(p, s.label);
    DrawSeries(s, frame, m, options, painter);
    painter->EndSeries();
  }
  Legend legend = PlaceLegend(series, frame, m, options.log_y, font);
  DrawLegend(series, legend, m, font, painter);
  *frame_out = frame;
  *legend_out = legend.box;
  return absl::OkStatus();
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
  GISP_ASSIGN_OR_RETURN(std::unique_ptr<Font> font, Font::Load(options.font_path));
  RasterPainter painter(options.width, options.height, kBackground, font.get());
  RenderedChart chart;
  GISP_RETURN_IF_ERROR(
      DrawChart(series, options, font.get(), &painter, &chart.frame, &chart.legend));
  chart.width = options.width;
  chart.height = options.height;
  chart.rgb = painter.canvas().pixels();
  return chart;
}

absl::StatusOr<std::string> RenderLineChartSvg(const std::vector<Series>& series,
                                               const ChartOptions& options) {
  GISP_RETURN_IF_ERROR(Validate(series, options));
  GISP_ASSIGN_OR_RETURN(std::unique_ptr<Font> font, Font::Load(options.font_path));
  SvgPainter painter(options.width, options.height, options.title, font->family());
  ChartFrame frame;
  Rect legend;
  GISP_RETURN_IF_ERROR(DrawChart(series, options, font.get(), &painter, &frame, &legend));
  return painter.Finish();
}

absl::Status WriteLineChart(const std::string& path, const std::vector<Series>& series,
                            const ChartOptions& options) {
  auto chart = RenderLineChart(series, options);
  if (!chart.ok()) return Annotate(chart.status(), absl::StrCat("chart ", path));
  return WritePng(path, chart->width, chart->height, chart->rgb);
}

absl::Status WriteLineChartSvg(const std::string& path, const std::vector<Series>& series,
                               const ChartOptions& options) {
  auto svg = RenderLineChartSvg(series, options);
  if (!svg.ok()) return Annotate(svg.status(), absl::StrCat("chart ", path));
  return WriteFileAtomic(path, *svg);
}

}  // namespace plot
}  // namespace gisp
