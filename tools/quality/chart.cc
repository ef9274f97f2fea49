// `quality_chart`: draws one line chart for tools/quality from a small text spec, with the
// project's PNG/SVG plot writer (tools/plot), so the quality report needs no Python plotting
// library.
//
//   quality_chart SPEC OUT.png      (also writes OUT.svg)
//
// SPEC, one directive per line ('#' starts a comment line):
//   title <text>
//   xlabel <text>
//   ylabel <text>
//   logy                      (log-scale y axis)
//   series <legend label>     (starts a series; the points follow)
//   <x> <y>                   (a point of the current series; "nan" leaves a gap)
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "tools/plot/plot.h"

namespace {

int Fail(const std::string& message) {
  std::cerr << "quality_chart: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: quality_chart SPEC OUT.png\n";
    return 2;
  }
  const std::string spec_path = argv[1], png = argv[2];
  if (png.size() < 4 || png.substr(png.size() - 4) != ".png") {
    return Fail("the output name must end in .png, got " + png);
  }
  std::ifstream in(spec_path);
  if (!in) return Fail("cannot read " + spec_path);
  gisp::plot::ChartOptions options;
  options.width = 900;
  options.height = 560;
  std::vector<gisp::plot::Series> series;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    const std::string key = line.substr(0, space);
    const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "title") {
      options.title = rest;
    } else if (key == "xlabel") {
      options.x_label = rest;
    } else if (key == "ylabel") {
      options.y_label = rest;
    } else if (key == "logy") {
      options.log_y = true;
    } else if (key == "series") {
      const int i = static_cast<int>(series.size());
      series.push_back({rest, {}, {}, gisp::plot::SeriesColor(i), true});
    } else {
      std::istringstream point(line);
      std::string xs, ys;
      if (series.empty() || !(point >> xs >> ys)) {
        return Fail(spec_path + " line " + std::to_string(lineno) + ": expected a directive or " +
                    "'x y' after a series, got '" + line + "'");
      }
      double x = 0, y = 0;
      if (!absl::SimpleAtod(xs, &x) || !absl::SimpleAtod(ys, &y)) {
        return Fail(spec_path + " line " + std::to_string(lineno) + ": not numbers: '" + line +
                    "'");
      }
      series.back().x.push_back(x);
      series.back().y.push_back(y);
    }
  }
  if (series.empty()) return Fail(spec_path + ": no series");
  absl::Status status = gisp::plot::WriteLineChart(png, series, options);
  if (status.ok()) {
    status = gisp::plot::WriteLineChartSvg(png.substr(0, png.size() - 4) + ".svg", series,
                                           options);
  }
  if (!status.ok()) return Fail(std::string(status.message()));
  return 0;
}
