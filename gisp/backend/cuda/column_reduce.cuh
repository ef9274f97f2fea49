// The two-pass deterministic column reduction (see column_reduce.h for the chunking).
//
// Term: a functor with `__device__ double operator()(int64_t row, int64_t col) const`, the value
// summed. Finish: a functor with `__device__ void operator()(int64_t col, double sum) const` that
// stores the column's total (overwrite, or += for gradients).
#ifndef GISP_BACKEND_CUDA_COLUMN_REDUCE_CUH_
#define GISP_BACKEND_CUDA_COLUMN_REDUCE_CUH_

#include <cstdint>

#include "gisp/backend/cuda/column_reduce.h"
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// Grid (ceil(cols / kThreads), chunks). One thread per (column, chunk): consecutive threads read
// consecutive columns of a row, so every row read is coalesced.
template <typename Term>
__global__ void ColumnPartialKernel(double* partial, int64_t rows, int64_t cols,
                                    int64_t rows_per_chunk, Term term) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_chunk;
  const int64_t r1 = r0 + rows_per_chunk < rows ? r0 + rows_per_chunk : rows;
  double acc = 0.0;
  for (int64_t r = r0; r < r1; ++r) acc += term(r, c);
  partial[static_cast<int64_t>(blockIdx.y) * cols + c] = acc;
}

template <typename Finish>
__global__ void ColumnFinishKernel(const double* partial, int64_t chunks, int64_t cols,
                                   Finish finish) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  double acc = 0.0;
  for (int64_t p = 0; p < chunks; ++p) acc += partial[p * cols + c];
  finish(c, acc);
}

// scratch: ColumnReduceScratchBytes(rows, cols) bytes of device memory.
template <typename Term, typename Finish>
int ColumnReduce(double* scratch, int64_t rows, int64_t cols, Term term, Finish finish,
                 Stream stream) {
  if (cols == 0) return 0;
  const int64_t per = ColumnReduceRowsPerChunk(rows);
  const int64_t chunks = ColumnReduceChunks(rows);
  const unsigned col_blocks = static_cast<unsigned>((cols + kThreads - 1) / kThreads);
  if (chunks > 0) {
    ColumnPartialKernel<<<dim3(col_blocks, static_cast<unsigned>(chunks)), kThreads, 0, stream>>>(
        scratch, rows, cols, per, term);
    const int e = LaunchStatus();
    if (e != 0) return e;
  }
  ColumnFinishKernel<<<col_blocks, kThreads, 0, stream>>>(scratch, chunks, cols, finish);
  return LaunchStatus();
}

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_COLUMN_REDUCE_CUH_
