// cuBLAS behind plain C++ types (see runtime.h for why no CUDA header appears here).
//
// Functions return cublasStatus_t values (0 = CUBLAS_STATUS_SUCCESS).
#ifndef GISP_BACKEND_CUDA_BLAS_H_
#define GISP_BACKEND_CUDA_BLAS_H_

#include <cstddef>
#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

struct cublasContext;  // cublasHandle_t is `cublasContext*`

namespace gisp {
namespace gpu {

using BlasHandle = cublasContext*;

const char* BlasStatusString(int status);
// True for CUBLAS_STATUS_ALLOC_FAILED (cuBLAS could not get device memory).
bool BlasIsOutOfMemory(int status);

// Creates a handle bound to `stream` with an explicit workspace (so cuBLAS never allocates
// behind our back and picks the same kernels every run), atomics disallowed (no split-K
// reductions through atomics, so results are bit-reproducible) and the default math mode (no
// TF32 for f32 inputs, matching the CPU backend).
int BlasCreate(Stream stream, void* workspace, size_t workspace_bytes, BlasHandle* handle);
int BlasDestroy(BlasHandle handle);
int BlasVersion(BlasHandle handle, int* version);

// Row-major batched GEMM: out[i] = alpha * op(a[i]) @ op(b[i]) + beta * out[i] for i < batch.
// a: [batch, M, K] ([batch, K, M] if trans_a), b: [batch, K, N] ([batch, N, K] if trans_b),
// out: f32 [batch, M, N]. a and b share `ab_type` (kF32, kBF16 or kF16); accumulation is f32.
// Returns CUBLAS_STATUS_INVALID_VALUE when a dimension does not fit cuBLAS's int arguments.
int RowMajorGemm(BlasHandle handle, ElemType ab_type, const void* a, bool trans_a, const void* b,
                 bool trans_b, float* out, int64_t batch, int64_t m, int64_t n, int64_t k,
                 float alpha, float beta);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_BLAS_H_
