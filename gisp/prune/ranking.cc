#include "gisp/prune/ranking.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace gisp {

std::vector<double> LinearSchedule(double rho, int32_t steps) {
  if (steps <= 1) return {rho};
  std::vector<double> r(static_cast<size_t>(steps));
  for (int32_t k = 0; k < steps; ++k) r[k] = rho * k / (steps - 1);
  return r;
}

int64_t ThresholdRank(int64_t n, double ratio) {
  const int64_t k =
      n - static_cast<int64_t>(std::floor(static_cast<double>(n) * (1.0 - ratio))) + 1;
  return std::clamp<int64_t>(k, 1, n);
}

absl::StatusOr<Threshold> GlobalThreshold(const std::vector<double>& scores, double ratio) {
  const int64_t n = static_cast<int64_t>(scores.size());
  if (n == 0) return absl::InvalidArgumentError("ranking: no units");
  if (!(ratio >= 0 && ratio < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ranking: ratio must be in [0, 1), got ", ratio));
  }
  Threshold t;
  t.k = ThresholdRank(n, ratio);
  std::vector<double> copy = scores;
  std::nth_element(copy.begin(), copy.begin() + (t.k - 1), copy.end());
  t.tau = copy[static_cast<size_t>(t.k - 1)];
  return t;
}

double MaxPrunableRatio(const UnitSpace& space) {
  // tau stays finite while k <= N - protected, i.e. floor(N (1 - r)) >= protected + 1.
  const double n = static_cast<double>(space.size());
  const double keep = static_cast<double>(space.protected_units() + 1);
  return std::max(0.0, 1.0 - keep / n);
}

int64_t ApplyThreshold(const UnitSpace& space, const std::vector<double>& scores, double tau,
                       int32_t step, std::vector<int32_t>* pruned_at_step) {
  int64_t added = 0;
  for (int64_t u = 0; u < space.size(); ++u) {
    if ((*pruned_at_step)[u] >= 0 || space.protected_layer[space.LayerOf(u)]) continue;
    if (scores[u] <= tau) {
      (*pruned_at_step)[u] = step;
      ++added;
    }
  }
  return added;
}

void RoundKeptChannels(const UnitSpace& space, const std::vector<double>& scores, int32_t step,
                       int32_t multiple, std::vector<int32_t>* pruned_at_step) {
  if (multiple <= 1) return;
  for (int64_t l = 0; l < space.num_layers; ++l) {
    if (space.protected_layer[l]) continue;
    std::vector<int64_t> kept, fresh;  // unit ids
    for (int64_t c = 0; c < space.channels; ++c) {
      const int64_t u = space.ChannelUnit(l, c);
      if ((*pruned_at_step)[u] < 0) kept.push_back(u);
      if ((*pruned_at_step)[u] == step) fresh.push_back(u);
    }
    const int64_t n = static_cast<int64_t>(kept.size());
    if (n == 0 || n % multiple == 0) continue;
    const int64_t down = n / multiple * multiple;
    const int64_t up = down + multiple;
    // Ties between equal scores resolve by unit id so rounding is deterministic.
    auto by_score = [&](int64_t a, int64_t b) {
      return scores[a] != scores[b] ? scores[a] < scores[b] : a < b;
    };
    if (up - n <= n - down && up - n <= static_cast<int64_t>(fresh.size()) &&
        up <= space.channels) {
      std::sort(fresh.begin(), fresh.end(), by_score);
      for (int64_t i = 0; i < up - n; ++i) (*pruned_at_step)[fresh[fresh.size() - 1 - i]] = -1;
    } else {
      std::sort(kept.begin(), kept.end(), by_score);
      for (int64_t i = 0; i < n - down; ++i) (*pruned_at_step)[kept[i]] = step;
    }
  }
}

}  // namespace gisp
