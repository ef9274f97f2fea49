// Bias add (elementwise) and bias gradient (deterministic two-pass column sums).
#include "gisp/backend/cuda/bias.h"
#include "gisp/backend/cuda/column_reduce.cuh"
#include "gisp/backend/cuda/common.cuh"

namespace gisp {
namespace gpu {
namespace {

__global__ void AddBiasKernel(float* y, const float* bias, int64_t c, int64_t total) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] += bias[i % c];
  }
}

struct ValueTerm {
  const float* d_y;
  int64_t c;
  __device__ double operator()(int64_t row, int64_t col) const { return d_y[row * c + col]; }
};

struct AccumulateF32 {
  float* out;
  __device__ void operator()(int64_t col, double sum) const {
    out[col] = static_cast<float>(out[col] + sum);
  }
};

}  // namespace

int AddBias(float* y, const float* bias, int64_t n, int64_t c, Stream stream) {
  const int64_t total = n * c;
  if (total == 0) return 0;
  AddBiasKernel<<<GridFor(total), kThreads, 0, stream>>>(y, bias, c, total);
  return LaunchStatus();
}

int ColumnSum(float* d_bias, double* scratch, const float* d_y, int64_t n, int64_t c,
              Stream stream) {
  return ColumnReduce(scratch, n, c, ValueTerm{d_y, c}, AccumulateF32{d_bias}, stream);
}

}  // namespace gpu
}  // namespace gisp
