// Row/column gathers (compaction) and row/column zeroing (masking).
#include <cstring>

#include "gisp/backend/cpu/ops.h"

// Compiled once per ISA (isa.h); CreateCpuBackend runs a copy only on a CPU that has its ISA.
GISP_KERNELS_BEGIN

namespace gisp {
namespace cpu {
namespace GISP_ISA {

void GatherRows(void* out, const void* in, absl::Span<const int32_t> rows, int64_t c, size_t elem) {
  const int64_t n = static_cast<int64_t>(rows.size());
  const size_t row_bytes = static_cast<size_t>(c) * elem;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(static_cast<char*>(out) + i * row_bytes,
                static_cast<const char*>(in) + rows[i] * row_bytes, row_bytes);
  }
}

void GatherCols(void* out, const void* in, absl::Span<const int32_t> cols, int64_t r, int64_t c,
                size_t elem) {
  const int64_t n = static_cast<int64_t>(cols.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < r; ++i) {
    const char* src = static_cast<const char*>(in) + i * c * elem;
    char* dst = static_cast<char*>(out) + i * n * elem;
    for (int64_t j = 0; j < n; ++j) std::memcpy(dst + j * elem, src + cols[j] * elem, elem);
  }
}

void ZeroRows(void* t, absl::Span<const int32_t> rows, int64_t c, size_t elem) {
  const size_t row_bytes = static_cast<size_t>(c) * elem;
  for (int32_t i : rows) std::memset(static_cast<char*>(t) + i * row_bytes, 0, row_bytes);
}

void ZeroCols(void* t, absl::Span<const int32_t> cols, int64_t r, int64_t c, size_t elem) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < r; ++i) {
    char* row = static_cast<char*>(t) + i * c * elem;
    for (int32_t j : cols) std::memset(row + j * elem, 0, elem);
  }
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

GISP_KERNELS_END
