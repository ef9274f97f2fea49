// State and helpers every kernel copy shares (one definition, baseline code).
#include <omp.h>

#include <atomic>

#include "gisp/backend/cpu/kernels.h"

namespace gisp {
namespace cpu {
namespace {

constexpr int64_t kScoreFloats = int64_t{16} << 20;  // 64 MB per score block
std::atomic<int64_t> g_score_budget{kScoreFloats};

}  // namespace

int64_t NumThreads() { return omp_get_max_threads(); }

int64_t AttentionScoreBudget() { return g_score_budget.load(std::memory_order_relaxed); }

void SetAttentionScoreBudgetForTesting(int64_t floats) {
  g_score_budget.store(floats > 0 ? floats : kScoreFloats, std::memory_order_relaxed);
}

}  // namespace cpu
}  // namespace gisp
