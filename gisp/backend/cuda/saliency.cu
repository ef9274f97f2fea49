// |W * G| row and column sums, accumulated in double: a unit sums up to d_model * d_head
// elements whose magnitudes span many decades, and ties at the pruning threshold must be decided
// on exact-ish values. Row sums: one block per row, fixed-order block reduction. Column sums: the
// two-pass column reduction (column_reduce.cuh). Neither uses atomics, so both are deterministic.
#include "gisp/backend/cuda/column_reduce.cuh"
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/saliency.h"

namespace gisp {
namespace gpu {
namespace {

// Grid: one block per row. out: [R]; w, g: [R, C].
template <typename W>
__global__ void AbsProdRowSumKernel(double* out, const W* w, const float* g, int64_t c) {
  __shared__ double red[33];
  const int64_t row = blockIdx.x;
  const W* wi = w + row * c;
  const float* gi = g + row * c;
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
    acc += fabs(static_cast<double>(ToFloat(wi[j])) * gi[j]);
  }
  acc = BlockSum(acc, red);
  if (threadIdx.x == 0) out[row] = acc;
}

template <typename W>
struct AbsProdTerm {
  const W* w;
  const float* g;
  int64_t c;
  __device__ double operator()(int64_t row, int64_t col) const {
    return fabs(static_cast<double>(ToFloat(w[row * c + col])) * g[row * c + col]);
  }
};

struct StoreF64 {
  double* out;
  __device__ void operator()(int64_t col, double sum) const { out[col] = sum; }
};

template <typename W>
int RowSum(double* out, const W* w, const float* g, int64_t r, int64_t c, Stream stream) {
  AbsProdRowSumKernel<<<static_cast<unsigned>(r), kThreads, 0, stream>>>(out, w, g, c);
  return LaunchStatus();
}

}  // namespace

int AbsProdRowSum(double* out, const void* w, ElemType w_type, const float* g, int64_t r, int64_t c,
                  Stream stream) {
  if (r == 0) return 0;
  switch (w_type) {
    case ElemType::kF32:
      return RowSum(out, static_cast<const float*>(w), g, r, c, stream);
    case ElemType::kBF16:
      return RowSum(out, static_cast<const Bf16*>(w), g, r, c, stream);
    case ElemType::kF16:
      return RowSum(out, static_cast<const F16*>(w), g, r, c, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

int AbsProdColSum(double* out, double* scratch, const void* w, ElemType w_type, const float* g,
                  int64_t r, int64_t c, Stream stream) {
  switch (w_type) {
    case ElemType::kF32:
      return ColumnReduce(scratch, r, c, AbsProdTerm<float>{static_cast<const float*>(w), g, c},
                          StoreF64{out}, stream);
    case ElemType::kBF16:
      return ColumnReduce(scratch, r, c, AbsProdTerm<Bf16>{static_cast<const Bf16*>(w), g, c},
                          StoreF64{out}, stream);
    case ElemType::kF16:
      return ColumnReduce(scratch, r, c, AbsProdTerm<F16>{static_cast<const F16*>(w), g, c},
                          StoreF64{out}, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace gpu
}  // namespace gisp
