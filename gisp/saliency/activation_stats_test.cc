// ColumnMoments' mean and sample variance (the FLAP metric's inputs) against a two-pass
// computation in long double, including columns whose mean is far from zero relative to their
// spread (where plain sums of x and x^2 cancel; docs/numerics.md section 8), a constant column
// and too few tokens.
#include "gisp/saliency/activation_stats.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace gisp {
namespace {

TEST(ColumnMomentsTest, MeanAndVarianceMatchATwoPassReference) {
  // Columns: mean 0 / std 1, mean 1e3 / std 1, mean -50 / std 1e-2, constant 7.25 (f32 values).
  const double means[] = {0.0, 1e3, -50.0, 7.25};
  const double stds[] = {1.0, 1.0, 1e-2, 0.0};
  constexpr int kColumns = 4, kTokens = 20000;
  std::mt19937 rng(9);
  std::normal_distribution<double> normal;
  std::vector<std::vector<float>> x(kColumns);
  ColumnMoments m;
  std::vector<double> row(kColumns);
  for (int t = 0; t < kTokens; ++t) {
    for (int j = 0; j < kColumns; ++j) {
      const float v = static_cast<float>(means[j] + stds[j] * normal(rng));
      x[j].push_back(v);
      row[j] = v;
    }
    m.Add(row);
  }
  for (int j = 0; j < kColumns; ++j) {
    long double mean = 0, ss = 0;
    for (float v : x[j]) mean += v;
    mean /= kTokens;
    for (float v : x[j]) ss += (v - mean) * (v - mean);
    const double var = static_cast<double>(ss / (kTokens - 1));
    EXPECT_NEAR(m.Mean(j), static_cast<double>(mean), 1e-14 * (std::fabs(means[j]) + 1))
        << "column " << j;
    // Shifted sums: the error does not grow with mean^2 / variance (1e6 for column 1, 2.5e7
    // for column 2; unshifted sums missed by 2e-8 relative here), only with the token count.
    if (stds[j] == 0) {
      EXPECT_EQ(m.Variance(j), 0.0) << "column " << j;
    } else {
      EXPECT_NEAR(m.Variance(j), var, 1e-11 * var) << "column " << j;
      EXPECT_NEAR(m.Variance(j), std::pow(stds[j], 2), 0.05 * std::pow(stds[j], 2));
    }
  }
  ColumnMoments one;
  one.Add({3.0});
  EXPECT_EQ(one.Variance(0), 0.0);  // fewer than two tokens: no sample variance
  EXPECT_EQ(one.Mean(0), 3.0);
}

}  // namespace
}  // namespace gisp
