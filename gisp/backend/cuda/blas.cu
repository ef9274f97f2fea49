// cuBLAS wrappers; see blas.h.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>

#include "gisp/backend/cuda/blas.h"

namespace gisp {
namespace gpu {
namespace {

bool FitsInt(int64_t v) { return v >= 0 && v <= INT_MAX; }

}  // namespace

const char* BlasStatusString(int status) {
  return cublasGetStatusString(static_cast<cublasStatus_t>(status));
}

bool BlasIsOutOfMemory(int status) { return status == CUBLAS_STATUS_ALLOC_FAILED; }

int BlasCreate(Stream stream, void* workspace, size_t workspace_bytes, BlasHandle* handle) {
  cublasHandle_t h = nullptr;
  cublasStatus_t s = cublasCreate(&h);
  if (s != CUBLAS_STATUS_SUCCESS) return s;
  s = cublasSetStream(h, stream);
  // The workspace must be set after the stream: cublasSetStream resets it to the default pool.
  if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetWorkspace(h, workspace, workspace_bytes);
  if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetAtomicsMode(h, CUBLAS_ATOMICS_NOT_ALLOWED);
  // CUBLAS_DEFAULT_MATH: f32 inputs with CUBLAS_COMPUTE_32F stay true f32 (no TF32). Reduced
  // precision split-K reductions are disallowed for the 16-bit inputs as well.
  if (s == CUBLAS_STATUS_SUCCESS) {
    s = cublasSetMathMode(
        h, static_cast<cublasMath_t>(CUBLAS_DEFAULT_MATH |
                                     CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION));
  }
  if (s != CUBLAS_STATUS_SUCCESS) {
    cublasDestroy(h);
    return s;
  }
  *handle = h;
  return CUBLAS_STATUS_SUCCESS;
}

int BlasDestroy(BlasHandle handle) { return cublasDestroy(handle); }

int BlasVersion(BlasHandle handle, int* version) { return cublasGetVersion(handle, version); }

int RowMajorGemm(BlasHandle handle, ElemType ab_type, const void* a, bool trans_a, const void* b,
                 bool trans_b, float* out, int64_t batch, int64_t m, int64_t n, int64_t k,
                 float alpha, float beta) {
  if (!FitsInt(batch) || !FitsInt(m) || !FitsInt(n) || !FitsInt(k)) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (batch == 0 || m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  cudaDataType_t type = CUDA_R_32F;
  switch (ab_type) {
    case ElemType::kF32:
      type = CUDA_R_32F;
      break;
    case ElemType::kBF16:
      type = CUDA_R_16BF;
      break;
    case ElemType::kF16:
      type = CUDA_R_16F;
      break;
    default:
      return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  // cuBLAS is column-major. A row-major [R, C] matrix is the column-major [C, R] matrix, i.e. its
  // transpose, so row-major out = op(a) @ op(b) is column-major out^T = op(b)^T @ op(a)^T: call
  // cuBLAS with the operands swapped, m' = N, n' = M, and each operand's own transpose flag.
  //  * b untransposed is row-major [K, N] = column-major [N, K]: already op(b)^T, ld = N.
  //  * b transposed is row-major [N, K] = column-major [K, N]: needs OP_T, ld = K.
  //  * a untransposed is row-major [M, K] = column-major [K, M]: already op(a)^T, ld = K.
  //  * a transposed is row-major [K, M] = column-major [M, K]: needs OP_T, ld = M.
  // Leading dimensions are clamped to 1 because cuBLAS rejects ld = 0 even when K = 0.
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ld_b = static_cast<int>(std::max<int64_t>(1, trans_b ? k : n));
  const int ld_a = static_cast<int>(std::max<int64_t>(1, trans_a ? m : k));
  const int ld_c = static_cast<int>(n);
  const long long stride_a = static_cast<long long>(m) * k;
  const long long stride_b = static_cast<long long>(k) * n;
  const long long stride_c = static_cast<long long>(m) * n;
  // CUBLAS_GEMM_DEFAULT: cuBLAS's own kernel choice, deterministic for a fixed handle
  // configuration (workspace, atomics off, one stream) and GPU.
  return cublasGemmStridedBatchedEx(
      handle, op_b, op_a, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b,
      type, ld_b, stride_b, a, type, ld_a, stride_a, &beta, out, CUDA_R_32F, ld_c, stride_c,
      static_cast<int>(batch), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

}  // namespace gpu
}  // namespace gisp
