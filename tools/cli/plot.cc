// The sparsity/perplexity chart of a run (tools/plot draws it).
#include "tools/plot/plot.h"

#include <cmath>

#include "tools/cli/report.h"

namespace gisp_cli {

std::string WritePlot(const std::string& path, const RunSummary& s) {
  std::vector<gisp::plot::Series> series;
  gisp::plot::Series ppl;
  ppl.label = "perplexity at target";
  ppl.rgb = 0x1f77b4;
  ppl.markers = true;
  if (std::isfinite(s.dense_perplexity)) {
    ppl.x.push_back(0.0);
    ppl.y.push_back(s.dense_perplexity);
  }
  for (const TargetRow& t : s.targets) {
    if (!std::isfinite(t.perplexity)) continue;
    ppl.x.push_back(100 * t.sparsity);
    ppl.y.push_back(t.perplexity);
  }
  gisp::plot::ChartOptions options;
  if (ppl.x.size() >= 1) {
    series.push_back(ppl);
    options.title = "GISP: held-out perplexity vs decoder sparsity";
    options.y_label = "perplexity";
    options.log_y = true;
  } else {
    // No evaluation text: plot the calibration loss of every step instead.
    gisp::plot::Series loss;
    loss.label = "calibration loss";
    loss.rgb = 0xd62728;
    loss.markers = true;
    for (const StepRow& r : s.step_rows) {
      loss.x.push_back(100 * r.sparsity);
      loss.y.push_back(r.loss);
    }
    series.push_back(loss);
    options.title = "GISP: calibration loss vs decoder sparsity";
    options.y_label = "calibration loss";
  }
  options.x_label = "decoder parameter sparsity (%)";
  const absl::Status status = gisp::plot::WriteLineChart(path, series, options);
  return status.ok() ? std::string() : std::string(status.message());
}

}  // namespace gisp_cli
