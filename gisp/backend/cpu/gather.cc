// Row/column gathers (compaction) and row/column zeroing (masking).
#include <cstring>

#include "gisp/backend/cpu/ops.h"

namespace gisp {
namespace cpu {

void GatherRows(void* out, const void* in, absl::Span<const int32_t> rows, int64_t c, size_t elem) {
  const int64_t n = static_cast<int64_t>(rows.size());
  const size_t row_bytes = static_cast<size_t>(c) * elem;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(static_cast<char*>(out) + i * row_bytes,
                static_cast<const char*>(in) + rows[i] * row_bytes, row_bytes);
  }
}

void GatherCols(float* out, const float* in, absl::Span<const int32_t> cols, int64_t r, int64_t c) {
  const int64_t n = static_cast<int64_t>(cols.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < r; ++i) {
    const float* src = in + i * c;
    float* dst = out + i * n;
    for (int64_t j = 0; j < n; ++j) dst[j] = src[cols[j]];
  }
}

void ZeroRows(void* t, absl::Span<const int32_t> rows, int64_t c, size_t elem) {
  const size_t row_bytes = static_cast<size_t>(c) * elem;
  for (int32_t i : rows) std::memset(static_cast<char*>(t) + i * row_bytes, 0, row_bytes);
}

void ZeroCols(float* t, absl::Span<const int32_t> cols, int64_t r, int64_t c) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < r; ++i) {
    float* row = t + i * c;
    for (int32_t j : cols) row[j] = 0.0f;
  }
}

}  // namespace cpu
}  // namespace gisp
