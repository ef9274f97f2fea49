// Writes a sample "decoder sparsity vs perplexity" chart, for eyeballing the renderer:
//   bazel run //tools/plot:chart_demo -- /tmp/chart.png [log|linear] [WIDTHxHEIGHT]
// writes /tmp/chart.png and, beside it, /tmp/chart.svg.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>

#include "tools/plot/plot.h"

int main(int argc, char** argv) {
  using gisp::plot::Series;
  if (argc < 2) {
    std::cerr << "usage: chart_demo OUT.png [log|linear] [WIDTHxHEIGHT]\n";
    return 2;
  }
  const std::string png = argv[1];
  if (png.size() < 4 || png.substr(png.size() - 4) != ".png") {
    std::cerr << "the output name must end in .png, got " << png << "\n";
    return 2;
  }
  const std::string svg = png.substr(0, png.size() - 4) + ".svg";
  gisp::plot::ChartOptions options;
  options.title = "Llama-like 1B: decoder sparsity vs perplexity";
  options.x_label = "decoder sparsity";
  options.y_label = "WikiText-2 perplexity";
  options.log_y = argc > 2 && std::string(argv[2]) == "log";
  if (argc > 3 && std::sscanf(argv[3], "%dx%d", &options.width, &options.height) != 2) {
    std::cerr << "size must look like 1600x1000, got " << argv[3] << "\n";
    return 2;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Series> series = {
      {"magnitude", {}, {}, gisp::plot::SeriesColor(0), true},
      {"wanda", {}, {}, gisp::plot::SeriesColor(1), true},
      {"gisp (ours)", {}, {}, gisp::plot::SeriesColor(2), false},
  };
  for (int i = 0; i <= 16; ++i) {
    double s = i * 0.05;
    series[0].x.push_back(s);
    series[0].y.push_back(9.5 * std::exp(6.0 * s * s * s));
    series[1].x.push_back(s);
    series[1].y.push_back(9.5 * std::exp(3.5 * s * s * s));
    series[2].x.push_back(s);
    series[2].y.push_back(i == 12 ? nan : 9.4 * std::exp(2.2 * s * s * s));
  }
  absl::Status status = gisp::plot::WriteLineChart(png, series, options);
  if (status.ok()) status = gisp::plot::WriteLineChartSvg(svg, series, options);
  if (!status.ok()) {
    std::cerr << status << "\n";
    return 1;
  }
  return 0;
}
