// The run report: a JSON document for machines, a Markdown table for people, and a plot of decoder
// sparsity against perplexity (PNG and SVG).
#ifndef GISP_TOOLS_CLI_REPORT_H_
#define GISP_TOOLS_CLI_REPORT_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace gisp_cli {

// One written export of a target.
struct ExportRow {
  std::string format;  // sliced, llama, gguf, decilm
  std::string dir;
  int64_t parameters = 0;        // in the written model (zero padding included)
  int64_t exact_parameters = 0;  // the sliced subnetwork's own count
};

struct TargetRow {
  double requested = 0;
  int32_t step = -1;
  double sparsity = 0;
  double perplexity = NAN;  // NaN: not evaluated
  int64_t eval_tokens = 0;
  int64_t parameters = 0;  // total parameters of the subnetwork
  std::string model_dir;   // "" when not exported; else the parent of the format directories
  std::vector<ExportRow> exports;
};

struct StepRow {
  int32_t step = 0;
  double target_ratio = 0;
  double sparsity = 0;
  double loss = 0;
  // Timings of steps computed in this process (NaN for steps done before a resume).
  double seconds = NAN, gradient = NAN, scoring = NAN, ranking = NAN, compaction = NAN;
};

struct RunSummary {
  std::string model, calib, eval, out, objective, device, gisp_version;
  double ratio = 0;
  int32_t steps = 0;
  int32_t resumed_at = 0;  // first step computed by this invocation
  int32_t ranks = 1;       // MPI ranks that shared the calibration work
  int64_t dense_parameters = 0;
  double dense_perplexity = NAN;
  int64_t dense_eval_tokens = 0;
  double total_seconds = 0;
  std::vector<StepRow> step_rows;
  std::vector<TargetRow> targets;
};

std::string ReportJson(const RunSummary& s);
std::string ReportMarkdown(const RunSummary& s);
// Writes the sparsity/perplexity chart (or the calibration loss per step) as PNG and SVG. "" on
// success.
std::string WritePlots(const std::string& png_path, const std::string& svg_path,
                       const RunSummary& s);
// One entry of gisp_pruner_timings_json.
struct StepTiming {
  int32_t step = 0;
  double seconds = 0, gradient = 0, scoring = 0, ranking = 0, compaction = 0;
};
std::vector<StepTiming> ParseTimings(const std::string& json);

// Writes `contents` to `path` through a temporary file and rename. "" on success.
std::string WriteAtomically(const std::string& path, const std::string& contents);

}  // namespace gisp_cli

#endif  // GISP_TOOLS_CLI_REPORT_H_
