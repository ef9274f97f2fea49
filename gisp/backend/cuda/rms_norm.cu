// RMSNorm forward and backward. One block per row; the row statistics accumulate in double as
// on the CPU (a 4096-wide row of squares loses ~1e-5 relative in f32). The weight gradient is a
// two-pass column reduction (column_reduce.cuh): deterministic, no atomics.
#include "gisp/backend/cuda/column_reduce.cuh"
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/rms_norm.h"

namespace gisp {
namespace gpu {
namespace {

// Grid: one block per row. out, x: [N, D]; inv_rms: [N]; weight: [D].
__global__ void RmsNormForwardKernel(float* out, float* inv_rms, const float* x,
                                     const float* weight, float eps, int64_t d) {
  __shared__ double red[33];
  const int64_t row = blockIdx.x;
  const float* xi = x + row * d;
  double ss = 0.0;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
    const double v = xi[c];
    ss += v * v;
  }
  ss = BlockSum(ss, red);
  const float r = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(d) + eps));
  if (threadIdx.x == 0) inv_rms[row] = r;
  float* oi = out + row * d;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) oi[c] = xi[c] * r * weight[c];
}

// y = x * r * w with r = (mean(x^2) + eps)^-1/2:
// dx = r * (dy * w) - x * r^3 / D * sum_j(dy_j * w_j * x_j). Grid: one block per row.
__global__ void RmsNormBackwardKernel(float* d_x, const float* d_out, const float* x,
                                      const float* weight, const float* inv_rms, int64_t d) {
  __shared__ double red[33];
  const int64_t row = blockIdx.x;
  const float* xi = x + row * d;
  const float* gi = d_out + row * d;
  const float r = inv_rms[row];
  double dot = 0.0;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
    dot += static_cast<double>(gi[c]) * weight[c] * xi[c];
  }
  dot = BlockSum(dot, red);
  const float coef = static_cast<float>(dot * r * r * r / static_cast<double>(d));
  float* dxi = d_x + row * d;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
    dxi[c] += gi[c] * weight[c] * r - xi[c] * coef;
  }
}

// d_weight[c] = sum_i d_out[i, c] * x[i, c] * inv_rms[i].
struct WeightGradTerm {
  const float* d_out;
  const float* x;
  const float* inv_rms;
  int64_t d;
  __device__ double operator()(int64_t row, int64_t c) const {
    return static_cast<double>(d_out[row * d + c]) * x[row * d + c] * inv_rms[row];
  }
};

struct AccumulateF32 {
  float* out;
  __device__ void operator()(int64_t c, double sum) const {
    out[c] = static_cast<float>(out[c] + sum);
  }
};

}  // namespace

int RmsNormForward(float* out, float* inv_rms, const float* x, const float* weight, float eps,
                   int64_t n, int64_t d, Stream stream) {
  if (n == 0) return 0;
  RmsNormForwardKernel<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(out, inv_rms, x, weight,
                                                                          eps, d);
  return LaunchStatus();
}

int RmsNormBackward(float* d_x, float* d_weight, double* scratch, const float* d_out,
                    const float* x, const float* weight, const float* inv_rms, int64_t n, int64_t d,
                    Stream stream) {
  if (n > 0) {
    RmsNormBackwardKernel<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(d_x, d_out, x, weight,
                                                                             inv_rms, d);
    const int e = LaunchStatus();
    if (e != 0) return e;
  }
  if (d_weight == nullptr) return 0;
  return ColumnReduce(scratch, n, d, WeightGradTerm{d_out, x, inv_rms, d}, AccumulateF32{d_weight},
                      stream);
}

}  // namespace gpu
}  // namespace gisp
