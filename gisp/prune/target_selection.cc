#include "gisp/prune/target_selection.h"

#include <algorithm>
#include <cmath>

namespace gisp {
namespace {

// Units sorted by ascending score, unit id breaking ties (a deterministic order).
void SortByScore(const std::vector<double>& scores, std::vector<int64_t>* units) {
  std::stable_sort(units->begin(), units->end(), [&](int64_t a, int64_t b) {
    return scores[static_cast<size_t>(a)] < scores[static_cast<size_t>(b)];
  });
}

int64_t CountAt(double q, int64_t n) {
  return std::min<int64_t>(n, static_cast<int64_t>(std::floor(q * static_cast<double>(n) + 1e-9)));
}

}  // namespace

TargetSelector::TargetSelector(const UnitSpace& space, const UnitWeightCounts& counts,
                               std::vector<double> scores, bool local)
    : space_(space), counts_(counts), scores_(std::move(scores)), local_(local) {
  if (!local_) {
    for (int64_t u = 0; u < space_.size(); ++u) {
      if (!space_.protected_layer[space_.LayerOf(u)]) order_.push_back(u);
    }
    SortByScore(scores_, &order_);
    return;
  }
  layer_heads_.resize(static_cast<size_t>(space_.num_layers));
  layer_channels_.resize(static_cast<size_t>(space_.num_layers));
  for (int64_t l = 0; l < space_.num_layers; ++l) {
    if (space_.protected_layer[l]) continue;
    auto& heads = layer_heads_[static_cast<size_t>(l)];
    auto& channels = layer_channels_[static_cast<size_t>(l)];
    for (int64_t h = 0; h < space_.heads; ++h) heads.push_back(space_.HeadUnit(l, h));
    for (int64_t c = 0; c < space_.channels; ++c) channels.push_back(space_.ChannelUnit(l, c));
    SortByScore(scores_, &heads);
    SortByScore(scores_, &channels);
  }
  ratios_.push_back(0.0);
  for (int64_t n : {space_.heads, space_.channels}) {
    for (int64_t a = 1; a <= n; ++a) {
      ratios_.push_back(static_cast<double>(a) / static_cast<double>(n));
    }
  }
  std::sort(ratios_.begin(), ratios_.end());
  ratios_.erase(std::unique(ratios_.begin(), ratios_.end()), ratios_.end());
}

int64_t TargetSelector::positions() const {
  return local_ ? static_cast<int64_t>(ratios_.size()) : static_cast<int64_t>(order_.size()) + 1;
}

Selection TargetSelector::At(int64_t p) const {
  Selection s;
  s.position = p;
  s.pruned.assign(static_cast<size_t>(space_.size()), false);
  if (local_) {
    const double q = ratios_[static_cast<size_t>(p)];
    s.parameter = q;
    for (int64_t l = 0; l < space_.num_layers; ++l) {
      if (space_.protected_layer[l]) continue;
      const auto& heads = layer_heads_[static_cast<size_t>(l)];
      const auto& channels = layer_channels_[static_cast<size_t>(l)];
      const int64_t mh = CountAt(q, static_cast<int64_t>(heads.size()));
      const int64_t mc = CountAt(q, static_cast<int64_t>(channels.size()));
      for (int64_t i = 0; i < mh; ++i) s.pruned[static_cast<size_t>(heads[i])] = true;
      for (int64_t i = 0; i < mc; ++i) s.pruned[static_cast<size_t>(channels[i])] = true;
    }
  } else if (p > 0) {
    const double tau = scores_[static_cast<size_t>(order_[static_cast<size_t>(p - 1)])];
    s.parameter = tau;
    // The k lowest and every unit tied with the k-th.
    for (int64_t u : order_) {
      if (scores_[static_cast<size_t>(u)] > tau) break;
      s.pruned[static_cast<size_t>(u)] = true;
    }
  }
  s.sparsity = counts_.SparsityOf(s.pruned);
  return s;
}

Selection TargetSelector::Select(double target, const Selection* previous) const {
  const int64_t first = previous != nullptr ? previous->position : 0;
  // Smallest position in [first, positions()) whose sparsity reaches the target (the last one
  // when none does).
  int64_t lo = first, hi = positions() - 1;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (At(mid).sparsity >= target) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  Selection best = At(lo);
  if (lo > first) {
    Selection below = At(lo - 1);
    if (std::fabs(below.sparsity - target) <= std::fabs(best.sparsity - target)) {
      best = std::move(below);
    }
  }
  return best;
}

}  // namespace gisp
