// Geometry of the two-pass column reductions (column_reduce.cuh), shared with the host so the
// backend can size the scratch buffer they need.
//
// A column sum over R rows is split into fixed chunks of rows: pass 1 sums each chunk of each
// column in row order into a double partial, pass 2 adds the partials in chunk order. The chunk
// size depends only on R, so the summation order, and therefore the bits, never depend on the
// GPU, the timing or anything but the shape; no atomics are involved.
#ifndef GISP_BACKEND_CUDA_COLUMN_REDUCE_H_
#define GISP_BACKEND_CUDA_COLUMN_REDUCE_H_

#include <cstdint>

namespace gisp {
namespace gpu {

// Rows per chunk: at least 16 (so a chunk amortizes its partial's write), at most 128 chunks
// (so pass 2 stays short and the scratch small).
inline int64_t ColumnReduceRowsPerChunk(int64_t rows) {
  constexpr int64_t kMaxChunks = 128;
  constexpr int64_t kMinRows = 16;
  const int64_t per = (rows + kMaxChunks - 1) / kMaxChunks;
  return per < kMinRows ? kMinRows : per;
}

inline int64_t ColumnReduceChunks(int64_t rows) {
  const int64_t per = ColumnReduceRowsPerChunk(rows);
  return (rows + per - 1) / per;
}

// Bytes of device scratch (doubles) a column reduction over [rows, cols] needs.
inline int64_t ColumnReduceScratchBytes(int64_t rows, int64_t cols) {
  return ColumnReduceChunks(rows) * cols * static_cast<int64_t>(sizeof(double));
}

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_COLUMN_REDUCE_H_
