// Embedding lookup and its gradient.
#include <algorithm>
#include <cstring>

#include "gisp/backend/cpu/ops.h"

// Compiled once per ISA (isa.h); CreateCpuBackend runs a copy only on a CPU that has its ISA.
GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {

void EmbeddingForward(float* out, const float* table, const int32_t* ids, int64_t n, int64_t d) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(out + i * d, table + static_cast<int64_t>(ids[i]) * d, d * sizeof(float));
  }
}

void EmbeddingBackward(float* d_table, const float* d_out, const int32_t* ids, int64_t n,
                       int64_t d) {
  // Threads own disjoint column ranges and walk the tokens in order: no atomics, and the sum
  // for a repeated token is always taken in token order.
  ForColumnRanges(d, [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; ++i) {
      float* row = d_table + static_cast<int64_t>(ids[i]) * d;
      const float* g = d_out + i * d;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) row[c] += g[c];
    }
  });
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END
