// Elementwise kernels. Launchers return a cudaError_t value (0 = queued on `stream`).
#ifndef GISP_BACKEND_CUDA_ELEMENTWISE_H_
#define GISP_BACKEND_CUDA_ELEMENTWISE_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// Writes the `elem_bytes`-wide bit pattern `pattern` (2, 4 or 8 bytes; the low bytes of
// `pattern`) into each of the n elements of out.
int FillPattern(void* out, uint64_t pattern, int elem_bytes, int64_t n, Stream stream);
// out = a + b; out may alias a or b. All [n].
int Add(float* out, const float* a, const float* b, int64_t n, Stream stream);
// y += alpha * x. All [n].
int Axpy(float* y, float alpha, const float* x, int64_t n, Stream stream);
// y *= alpha. [n]. (y + (alpha - 1) * y through Axpy would round alpha - 1 first.)
int Scale(float* y, float alpha, int64_t n, Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_ELEMENTWISE_H_
