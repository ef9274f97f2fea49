// Line charts as PNG and SVG files, e.g. `prune`'s "decoder sparsity vs perplexity" curves. One
// layout (measured with FreeType and the chart font, font.h) drives both: the raster (canvas.h)
// goes to a PNG through libpng (png_io.h), the SVG (svg.h) keeps its text as text.
//
// Points whose x or y is not finite (or whose y <= 0 on a log axis) are skipped, and the line
// breaks there rather than bridging the gap, so a diverged run is visible as a hole.
#ifndef GISP_TOOLS_PLOT_PLOT_H_
#define GISP_TOOLS_PLOT_PLOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/plot/canvas.h"
#include "tools/plot/font.h"

namespace gisp {
namespace plot {

struct Series {
  std::string label;  // legend text; series with an empty label are left out of the legend
  std::vector<double> x, y;
  uint32_t rgb = 0x1F77B4;  // 0xRRGGBB
  bool markers = false;     // a dot at every point
};

struct ChartOptions {
  std::string title, x_label, y_label;
  bool log_y = false;
  int width = 800, height = 500;             // pixels; 200..8192 x 150..8192
  std::string font_path = kDefaultFontPath;  // a TrueType/OpenType file FreeType can load
};

// A distinct colour for the i-th series (cycles after 8), for callers without their own palette.
uint32_t SeriesColor(int i);

// Where the data went on the image: maps data coordinates to pixel centres.
struct ChartFrame {
  Rect plot;  // the data area inside the axes
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  bool log_y = false;
  double PixelX(double x) const;
  double PixelY(double y) const;
};

struct RenderedChart {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // [height, width, 3]
  ChartFrame frame;
  Rect legend;  // empty (all zero) when no series has a label
};

absl::StatusOr<RenderedChart> RenderLineChart(const std::vector<Series>& series,
                                              const ChartOptions& options);

// The same chart as an SVG document (same geometry as the raster, text as <text>, each data
// marker a <circle> with a <title> tooltip naming its values, each series a <g class="series">).
absl::StatusOr<std::string> RenderLineChartSvg(const std::vector<Series>& series,
                                               const ChartOptions& options);

// Renders and writes `path` as PNG, atomically. Errors name the series (label, or "#index" when
// unlabeled) that has mismatched x/y lengths or no plottable point.
absl::Status WriteLineChart(const std::string& path, const std::vector<Series>& series,
                            const ChartOptions& options);

// Renders and writes `path` as SVG, atomically; errors as WriteLineChart.
absl::Status WriteLineChartSvg(const std::string& path, const std::vector<Series>& series,
                               const ChartOptions& options);

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_PLOT_H_
