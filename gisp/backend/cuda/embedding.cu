// Embedding lookup (a gather with conversion to f32) and its gradient.
//
// The gradient scatters token rows into the table, and repeated tokens add into the same row.
// Instead of atomics, each thread owns one column of one slice of the vocabulary (ids with
// id % kSlices == slice) and walks the tokens in order, adding the ones that fall in its slice.
// Every table element is therefore written by exactly one thread, in token order: the result is
// deterministic and bit-identical to the CPU backend's (which also adds in token order in f32).
// The vocabulary slices multiply the parallelism beyond the D columns.
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/embedding.h"

namespace gisp {
namespace gpu {
namespace {

constexpr int kSlices = 16;

template <typename T>
__global__ void EmbeddingForwardKernel(float* out, const T* table, const int32_t* ids, int64_t d,
                                       int64_t total) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / d;
    const int64_t c = i - row * d;
    out[i] = ToFloat(table[static_cast<int64_t>(ids[row]) * d + c]);
  }
}

// Grid (ceil(D / kThreads), kSlices).
__global__ void EmbeddingBackwardKernel(float* d_table, const float* d_out, const int32_t* ids,
                                        int64_t n, int64_t d) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= d) return;
  const int slice = blockIdx.y;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id % kSlices != slice) continue;
    d_table[static_cast<int64_t>(id) * d + c] += d_out[i * d + c];
  }
}

}  // namespace

int EmbeddingForward(float* out, const void* table, ElemType table_type, const int32_t* ids,
                     int64_t n, int64_t d, Stream stream) {
  const int64_t total = n * d;
  if (total == 0) return 0;
  switch (table_type) {
    case ElemType::kF32:
      EmbeddingForwardKernel<<<GridFor(total), kThreads, 0, stream>>>(
          out, static_cast<const float*>(table), ids, d, total);
      break;
    case ElemType::kBF16:
      EmbeddingForwardKernel<<<GridFor(total), kThreads, 0, stream>>>(
          out, static_cast<const Bf16*>(table), ids, d, total);
      break;
    case ElemType::kF16:
      EmbeddingForwardKernel<<<GridFor(total), kThreads, 0, stream>>>(
          out, static_cast<const F16*>(table), ids, d, total);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return LaunchStatus();
}

int EmbeddingBackward(float* d_table, const float* d_out, const int32_t* ids, int64_t n, int64_t d,
                      Stream stream) {
  if (n == 0 || d == 0) return 0;
  const dim3 grid(static_cast<unsigned>((d + kThreads - 1) / kThreads), kSlices);
  EmbeddingBackwardKernel<<<grid, kThreads, 0, stream>>>(d_table, d_out, ids, n, d);
  return LaunchStatus();
}

}  // namespace gpu
}  // namespace gisp
