// Row/column gathers (compaction) and zeroing (masking) for any element size (2, 4 or 8 bytes).
// Index lists are device i32 arrays validated on the host when they were built. Launchers
// return a cudaError_t value (0 = queued on `stream`).
#ifndef GISP_BACKEND_CUDA_GATHER_H_
#define GISP_BACKEND_CUDA_GATHER_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// out: [n, C] = in[rows[i], :]; in: [R, C]; rows: [n].
int GatherRows(void* out, const void* in, const int32_t* rows, int64_t n, int64_t c, int elem_bytes,
               Stream stream);
// out: [R, n] = in[:, cols[j]]; in: [R, C]; cols: [n].
int GatherCols(void* out, const void* in, const int32_t* cols, int64_t r, int64_t n, int64_t c,
               int elem_bytes, Stream stream);
// t: [R, C]; t[rows[i], :] = 0 for i < n.
int ZeroRows(void* t, const int32_t* rows, int64_t n, int64_t c, int elem_bytes, Stream stream);
// t: [R, C]; t[:, cols[j]] = 0 for j < n.
int ZeroCols(void* t, const int32_t* cols, int64_t r, int64_t n, int64_t c, int elem_bytes,
             Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_GATHER_H_
