#include "tools/plot/ticks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace gisp {
namespace plot {
namespace {

// m * 10^e computed so that "nice" values are the doubles nearest their decimal form (0.3, not
// 0.30000000000000004): dividing by an exact power of ten rounds once.
double Scaled(double m, int e) {
  double p = 1;
  for (int i = 0; i < std::abs(e); ++i) p *= 10;
  return e >= 0 ? m * p : m / p;
}

bool Inside(double v, double lo, double hi) {
  double eps = 1e-9 * (std::fabs(lo) + std::fabs(hi));
  return v >= lo - eps && v <= hi + eps;
}

// Every m * 10^e with m in `mantissas` that lies in [lo, hi], in increasing order.
std::vector<double> MantissaTicks(double lo, double hi, const std::vector<int>& mantissas) {
  std::vector<double> ticks;
  int e0 = static_cast<int>(std::floor(std::log10(lo))) - 1;
  int e1 = static_cast<int>(std::ceil(std::log10(hi))) + 1;
  for (int e = e0; e <= e1; ++e) {
    for (int m : mantissas) {
      double v = Scaled(m, e);
      if (Inside(v, lo, hi)) ticks.push_back(v);
    }
  }
  return ticks;
}

// Fixed-point text of `v` with the fewest decimals (up to 12) that reads back as `v`.
int ShortestDecimals(double v) {
  char buf[64];
  for (int d = 0; d < 12; ++d) {
    std::snprintf(buf, sizeof(buf), "%.*f", d, v);
    if (std::fabs(std::strtod(buf, nullptr) - v) <= 1e-9 * std::fabs(v)) return d;
  }
  return 12;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  std::string s = buf;
  if (s == "-0" || s.find_first_not_of("-0.") == std::string::npos) s = s.substr(s[0] == '-');
  return s;
}

std::string Exponent(double v) {
  int e = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  double m = v / Scaled(1, e);
  if (std::fabs(m) >= 9.9999999) {  // log10 rounding just below a power of ten
    ++e;
    m /= 10;
  }
  m = std::round(m * 1000) / 1000;
  return absl::StrCat(Fixed(m, ShortestDecimals(m)), "e", e);
}

bool NeedsExponent(double v) {
  double a = std::fabs(v);
  return a != 0 && (a >= 1e6 || a < 1e-4);
}

}  // namespace

std::vector<double> LinearTicks(double lo, double hi) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  double raw = (hi - lo) / 5;
  int e = static_cast<int>(std::floor(std::log10(raw)));
  double norm = raw / Scaled(1, e);
  int m = norm <= 1 + 1e-9 ? 1 : norm <= 2 + 1e-9 ? 2 : norm <= 5 + 1e-9 ? 5 : 10;
  if (m == 10) {
    m = 1;
    ++e;
  }
  double step = Scaled(m, e);
  std::vector<double> ticks;
  double first = std::ceil(lo / step - 1e-9);
  double last = std::floor(hi / step + 1e-9);
  for (double i = first; i <= last; ++i) {
    double v = Scaled(i * m, e);
    ticks.push_back(v == 0 ? 0.0 : v);  // no "-0"
  }
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi)) return {lo};
  int d0 = static_cast<int>(std::ceil(std::log10(lo) - 1e-9));
  int d1 = static_cast<int>(std::floor(std::log10(hi) + 1e-9));
  int decades = d1 - d0 + 1;
  if (decades >= 3) {
    // Label every decade, or every k-th (aligned to multiples of k) so at most ~8 labels remain.
    int stride = (decades + 7) / 8;
    std::vector<double> ticks;
    for (int d = d0; d <= d1; ++d) {
      if (((d % stride) + stride) % stride == 0) ticks.push_back(Scaled(1, d));
    }
    if (ticks.size() >= 2) return ticks;
    return {Scaled(1, d0), Scaled(1, d1)};
  }
  std::vector<double> ticks = MantissaTicks(lo, hi, {1, 2, 5});
  if (ticks.size() >= 3) return ticks;
  ticks = MantissaTicks(lo, hi, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  if (ticks.size() >= 3) return ticks;
  // Less than a factor of ~1.5: the axis is nearly linear, and so are its ticks.
  return LinearTicks(lo, hi);
}

std::vector<double> LogMinorTicks(double lo, double hi) {
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(hi) || std::log10(hi / lo) > 5) return {};
  const std::vector<double> major = LogTicks(lo, hi);
  std::vector<double> minor;
  for (double v : MantissaTicks(lo, hi, {1, 2, 3, 4, 5, 6, 7, 8, 9})) {
    bool is_major = false;
    for (double t : major) is_major = is_major || std::fabs(v - t) <= 1e-9 * v;
    if (!is_major) minor.push_back(v);
  }
  return minor;
}

std::vector<std::string> FormatTicks(const std::vector<double>& ticks, bool uniform_decimals) {
  std::vector<std::string> labels;
  if (uniform_decimals) {
    double max_abs = 0;
    int decimals = 0;
    for (double v : ticks) {
      max_abs = std::max(max_abs, std::fabs(v));
      decimals = std::max(decimals, ShortestDecimals(v));
    }
    bool exponent = max_abs >= 1e6 || (max_abs > 0 && max_abs < 1e-4);
    for (double v : ticks) {
      labels.push_back(!exponent ? Fixed(v, decimals) : v == 0 ? "0" : Exponent(v));
    }
    return labels;
  }
  for (double v : ticks) {
    labels.push_back(NeedsExponent(v) ? Exponent(v) : Fixed(v, ShortestDecimals(v)));
  }
  return labels;
}

}  // namespace plot
}  // namespace gisp
