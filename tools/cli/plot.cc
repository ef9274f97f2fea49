// The sparsity/perplexity chart of a run, as PNG and SVG (tools/plot draws both).
#include "tools/plot/plot.h"

#include "absl/strings/str_cat.h"
#include "c_api/gisp.h"
#include "tools/cli/report.h"

namespace gisp_cli {

std::string WritePlots(const std::string& png_path, const std::string& svg_path,
                       const gisp::proto::RunReport& r) {
  std::vector<gisp::plot::Series> series;
  gisp::plot::Series ppl;
  ppl.label = "perplexity at target";
  ppl.rgb = 0x1f77b4;
  ppl.markers = true;
  if (r.has_dense_perplexity()) {
    ppl.x.push_back(100 * r.dense_sparsity());
    ppl.y.push_back(r.dense_perplexity());
  }
  for (const gisp::proto::TargetResult& t : r.targets()) {
    if (!t.has_perplexity()) continue;
    ppl.x.push_back(100 * t.sparsity());
    ppl.y.push_back(t.perplexity());
  }
  gisp::plot::ChartOptions options;
  // "GISP" for the default method, the method's name for a baseline (docs/baselines.md).
  const char* method = gisp_method_name(static_cast<gisp_method>(r.record().config().method()));
  const bool is_gisp = r.record().config().method() == gisp::proto::METHOD_GISP;
  const std::string who =
      is_gisp || method == nullptr ? std::string("GISP") : absl::StrCat("method ", method);
  if (ppl.x.size() >= 1) {
    series.push_back(ppl);
    options.title = who + ": held-out perplexity vs decoder sparsity";
    options.y_label = "perplexity";
    options.log_y = true;
  } else {
    // No evaluation text: plot the calibration loss of every step instead.
    gisp::plot::Series loss;
    loss.label = "calibration loss";
    loss.rgb = 0xd62728;
    loss.markers = true;
    for (const gisp::proto::StepRecord& step : r.record().steps()) {
      loss.x.push_back(100 * step.sparsity());
      loss.y.push_back(step.calibration_loss());
    }
    series.push_back(loss);
    options.title = who + ": calibration loss vs decoder sparsity";
    options.y_label = "calibration loss";
  }
  options.x_label = "decoder parameter sparsity (%)";
  absl::Status status = gisp::plot::WriteLineChart(png_path, series, options);
  // Both are attempted; the first error is reported.
  const absl::Status svg = gisp::plot::WriteLineChartSvg(svg_path, series, options);
  if (status.ok()) status = svg;
  return status.ok() ? std::string() : std::string(status.message());
}

}  // namespace gisp_cli
