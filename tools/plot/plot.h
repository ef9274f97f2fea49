// Line charts rendered to PNG with no external libraries: nice 1-2-5 ticks (or decades on a log
// axis), grid, polylines with markers, a legend, a title and axis labels.
#ifndef GISP_TOOLS_PLOT_PLOT_H_
#define GISP_TOOLS_PLOT_PLOT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace gisp_plot {

struct Series {
  std::string label;
  std::vector<double> x, y;
  uint32_t rgb = 0x1f77b4;
  bool markers = true;
};

struct ChartOptions {
  std::string title, x_label, y_label;
  bool log_y = false;
  int width = 800, height = 500;
};

// "" on success, else a message (empty series, length mismatch, unwritable path).
std::string WriteLineChart(const std::string& path, const std::vector<Series>& series,
                           const ChartOptions& options);

// Tick positions for [lo, hi]: about `target` nice 1-2-5 values on a linear axis; decades (and
// 2x, 5x when the range spans less than two decades) on a log axis.
std::vector<double> LinearTicks(double lo, double hi, int target = 6);
std::vector<double> LogTicks(double lo, double hi);

}  // namespace gisp_plot

#endif  // GISP_TOOLS_PLOT_PLOT_H_
