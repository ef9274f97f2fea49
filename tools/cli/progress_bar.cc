#include "tools/cli/progress_bar.h"

#include <unistd.h>

#include <cmath>

namespace gisp_cli {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

ProgressBar::ProgressBar(FILE* out) : out_(out), tty_(isatty(fileno(out)) != 0) {}

void ProgressBar::Update(int32_t step, int32_t steps, int64_t batch, int64_t batches,
                         double elapsed, double eta) {
  if (!tty_) return;  // logs get one line per completed step (StepDone)
  const double done =
      steps > 0 ? (step + static_cast<double>(batch) / std::max<int64_t>(batches, 1)) / steps : 0;
  constexpr int kWidth = 28;
  const int filled = static_cast<int>(done * kWidth);
  std::string bar(static_cast<size_t>(kWidth), ' ');
  for (int i = 0; i < filled && i < kWidth; ++i) bar[static_cast<size_t>(i)] = '=';
  if (filled < kWidth) bar[static_cast<size_t>(filled)] = '>';
  std::fprintf(out_, "\r\033[Kstep %d/%d [%s] batch %lld/%lld  %s  ETA %s", step + 1, steps,
               bar.c_str(), static_cast<long long>(batch), static_cast<long long>(batches),
               FormatDuration(elapsed).c_str(), FormatDuration(eta).c_str());
  std::fflush(out_);
  dirty_ = true;
}

void ProgressBar::StepDone(int32_t step, int32_t steps, double sparsity, double loss,
                           double elapsed, double eta) {
  std::fprintf(out_, "%sstep %d/%d  sparsity %.1f%%  loss %.4f  elapsed %s  eta %s\n",
               tty_ && dirty_ ? "\r\033[K" : "", step + 1, steps, 100 * sparsity, loss,
               FormatDuration(elapsed).c_str(), FormatDuration(eta).c_str());
  std::fflush(out_);
  dirty_ = false;
}

void ProgressBar::Finish() {
  if (tty_ && dirty_) std::fprintf(out_, "\n");
  dirty_ = false;
}

}  // namespace gisp_cli
