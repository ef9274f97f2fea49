// Embedding lookup and its gradient. Launchers return a cudaError_t value (0 = queued).
#ifndef GISP_BACKEND_CUDA_EMBEDDING_H_
#define GISP_BACKEND_CUDA_EMBEDDING_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// out: f32 [N, D] = table[ids[n], :]; table: [V, D] in `table_type` (kF32, kBF16 or kF16);
// ids: i32 [N], each in [0, V) (validated by the caller).
int EmbeddingForward(float* out, const void* table, ElemType table_type, const int32_t* ids,
                     int64_t n, int64_t d, Stream stream);
// d_table: [V, D] += d_out: [N, D] scattered by ids: [N]. Deterministic, no atomics.
int EmbeddingBackward(float* d_table, const float* d_out, const int32_t* ids, int64_t n, int64_t d,
                      Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_EMBEDDING_H_
