// Axis tick placement and labels. Linear axes step by 1, 2 or 5 times a power of ten; log axes
// label decades, or 1-2-5 (then 1..9) mantissas when the range spans too few decades to show
// three labels. Ticks are returned in increasing order and lie inside [lo, hi].
#ifndef GISP_TOOLS_PLOT_TICKS_H_
#define GISP_TOOLS_PLOT_TICKS_H_

#include <string>
#include <vector>

namespace gisp {
namespace plot {

// About five intervals over [lo, hi]; requires finite lo < hi.
std::vector<double> LinearTicks(double lo, double hi);

// Requires 0 < lo < hi, both finite.
std::vector<double> LogTicks(double lo, double hi);

// Unlabeled grid positions for a log axis: every m * 10^e (m = 2..9) in [lo, hi] that is not in
// LogTicks(lo, hi). Empty when the range spans more than 5 decades (the lines would crowd).
std::vector<double> LogMinorTicks(double lo, double hi);

// Short labels: "0.25", "200", exponents ("1e6", "2.5e-5") for very large or small magnitudes.
// `uniform_decimals` gives every fixed-point label the same number of decimals (linear axes:
// "0.0 0.5 1.0"); log axes label each value in its own shortest form ("0.2 0.5 1 2").
std::vector<std::string> FormatTicks(const std::vector<double>& ticks, bool uniform_decimals);

}  // namespace plot
}  // namespace gisp

#endif  // GISP_TOOLS_PLOT_TICKS_H_
