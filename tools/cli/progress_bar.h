// A one-line progress display for long runs: step, batch, a bar, sparsity, loss, elapsed time
// and ETA, redrawn in place on a terminal and printed once per step otherwise (logs, CI).
#ifndef GISP_TOOLS_CLI_PROGRESS_BAR_H_
#define GISP_TOOLS_CLI_PROGRESS_BAR_H_

#include <cstdint>
#include <cstdio>
#include <string>

namespace gisp_cli {

std::string FormatDuration(double seconds);  // "1:05", "1:02:03"

class ProgressBar {
 public:
  explicit ProgressBar(FILE* out);
  // Within step `step` (0-based) of `steps`: `batch` of `batches` done. Redrawn in place on a
  // terminal; nothing otherwise.
  void Update(int32_t step, int32_t steps, int64_t batch, int64_t batches, double elapsed,
              double eta);
  // Step `step` (0-based) completed with these results: one line, on a terminal and in logs.
  void StepDone(int32_t step, int32_t steps, double sparsity, double loss, double elapsed,
                double eta);
  void Finish();  // ends the in-place line

 private:
  FILE* out_;
  bool tty_;
  bool dirty_ = false;
};

}  // namespace gisp_cli

#endif  // GISP_TOOLS_CLI_PROGRESS_BAR_H_
