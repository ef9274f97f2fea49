#include "tools/plot/ticks.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gisp {
namespace plot {
namespace {

void ExpectTicks(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size()) << ::testing::PrintToString(actual);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_DOUBLE_EQ(actual[i], expected[i]) << i;
}

TEST(LinearTicksTest, OneTwoFiveSteps) {
  ExpectTicks(LinearTicks(0.2, 0.5), {0.2, 0.3, 0.4, 0.5});
  ExpectTicks(LinearTicks(0.188, 0.512), {0.2, 0.3, 0.4, 0.5});  // padded chart range
  ExpectTicks(LinearTicks(0, 1), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  ExpectTicks(LinearTicks(10, 200), {50, 100, 150, 200});
  ExpectTicks(LinearTicks(-3.7, 12.2), {0, 5, 10});
  ExpectTicks(LinearTicks(-0.031, 0.012), {-0.03, -0.02, -0.01, 0, 0.01});
  ExpectTicks(LinearTicks(1e6, 4e6), {1e6, 2e6, 3e6, 4e6});
  ExpectTicks(LinearTicks(1e6, 2e6), {1e6, 1.2e6, 1.4e6, 1.6e6, 1.8e6, 2e6});
}

TEST(LinearTicksTest, RandomRangesGiveEvenNiceSteps) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> exponent(-6, 6), unit(-1, 1);
  for (int trial = 0; trial < 2000; ++trial) {
    double scale = std::pow(10.0, exponent(rng));
    double a = unit(rng) * scale, b = unit(rng) * scale;
    if (a == b) continue;
    double lo = std::min(a, b), hi = std::max(a, b);
    std::vector<double> t = LinearTicks(lo, hi);
    ASSERT_GE(t.size(), 2u) << lo << " " << hi;
    ASSERT_LE(t.size(), 11u) << lo << " " << hi;
    double step = t[1] - t[0];
    double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-6 || std::fabs(mantissa - 2) < 1e-6 ||
                std::fabs(mantissa - 5) < 1e-6)
        << step;
    for (size_t i = 0; i < t.size(); ++i) {
      EXPECT_GE(t[i], lo - 1e-9 * scale);
      EXPECT_LE(t[i], hi + 1e-9 * scale);
      if (i > 0) {
        EXPECT_NEAR(t[i] - t[i - 1], step, 1e-6 * step);
      }
    }
  }
}

TEST(LogTicksTest, DecadesAndMinorLabels) {
  ExpectTicks(LogTicks(10, 200), {10, 20, 50, 100, 200});
  ExpectTicks(LogTicks(8.87, 225), {10, 20, 50, 100, 200});
  ExpectTicks(LogTicks(1, 1e6), {1, 10, 100, 1e3, 1e4, 1e5, 1e6});
  ExpectTicks(LogTicks(0.9, 1500), {1, 10, 100, 1000});
  // 16 decades: every second one, aligned to even exponents.
  ExpectTicks(LogTicks(1e-3, 1e12), {1e-2, 1, 1e2, 1e4, 1e6, 1e8, 1e10, 1e12});
  // Too narrow for 1-2-5: every mantissa, then linear steps.
  ExpectTicks(LogTicks(0.2, 0.5), {0.2, 0.3, 0.4, 0.5});
  ExpectTicks(LogTicks(25, 90), {30, 40, 50, 60, 70, 80, 90});
  ExpectTicks(LogTicks(12, 18), {12, 14, 16, 18});
}

TEST(LogMinorTicksTest, FillsDecadesExceptLabeledValues) {
  ExpectTicks(LogMinorTicks(1, 100), {2, 3, 4, 5, 6, 7, 8, 9, 20, 30, 40, 50, 60, 70, 80, 90});
  ExpectTicks(LogMinorTicks(8.87, 225), {9, 30, 40, 60, 70, 80, 90});
  EXPECT_TRUE(LogMinorTicks(1, 1e6).empty());
}

TEST(FormatTicksTest, LinearLabelsShareDecimals) {
  EXPECT_EQ(FormatTicks({0, 0.5, 1, 1.5}, true),
            (std::vector<std::string>{"0.0", "0.5", "1.0", "1.5"}));
  EXPECT_EQ(FormatTicks(LinearTicks(0.2, 0.5), true),
            (std::vector<std::string>{"0.2", "0.3", "0.4", "0.5"}));
  EXPECT_EQ(FormatTicks({-10, 0, 10}, true), (std::vector<std::string>{"-10", "0", "10"}));
  EXPECT_EQ(FormatTicks({0, 1e6, 2.5e6}, true), (std::vector<std::string>{"0", "1e6", "2.5e6"}));
  EXPECT_EQ(FormatTicks({2e-5, 4e-5}, true), (std::vector<std::string>{"2e-5", "4e-5"}));
}

TEST(FormatTicksTest, LogLabelsAreEachShortest) {
  EXPECT_EQ(FormatTicks({0.2, 0.5, 1, 2, 5, 10}, false),
            (std::vector<std::string>{"0.2", "0.5", "1", "2", "5", "10"}));
  EXPECT_EQ(FormatTicks({1e-5, 1e-4, 1e-3, 1e5, 1e6}, false),
            (std::vector<std::string>{"1e-5", "0.0001", "0.001", "100000", "1e6"}));
}

}  // namespace
}  // namespace plot
}  // namespace gisp
