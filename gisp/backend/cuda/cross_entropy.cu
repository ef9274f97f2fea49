// Softmax cross-entropy, one block per row: pass 1 takes the row maximum, pass 2 the sum of
// exp(x - max), then thread 0 writes the nll and (optionally) pass 3 writes the gradient. All
// reads of the row happen before the first write (the block reductions end in a barrier), and in
// pass 3 each thread rewrites only the elements it reads, so d_logits may alias logits.
#include <cmath>

#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/cross_entropy.h"

namespace gisp {
namespace gpu {
namespace {

__global__ void CrossEntropyKernel(float* nll, float* d_logits, const float* logits,
                                   const int32_t* targets, const float* weights, int64_t v) {
  __shared__ float red[33];
  const int64_t row = blockIdx.x;
  const float* x = logits + row * v;
  // Targets were validated by their producer; a stray one is treated as ignored rather than
  // read out of bounds.
  const int32_t raw_target = targets[row];
  const int64_t target = raw_target >= 0 && raw_target < v ? raw_target : -1;

  float mx = -INFINITY;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x) mx = fmaxf(mx, x[c]);
  mx = BlockMax(mx, red);
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x) sum += expf(x[c] - mx);
  sum = BlockSum(sum, red);
  const float lse = mx + logf(sum);
  // With d_logits aliasing logits, pass 3 overwrites x[target]: every thread reads it first,
  // and the barrier keeps the writes behind all of those reads.
  const float target_logit = target >= 0 ? x[target] : 0.0f;
  __syncthreads();
  if (threadIdx.x == 0) nll[row] = target >= 0 ? lse - target_logit : 0.0f;
  if (d_logits == nullptr) return;
  const float w = target >= 0 ? weights[row] : 0.0f;
  float* dx = d_logits + row * v;
  for (int64_t c = threadIdx.x; c < v; c += blockDim.x) {
    const float p = expf(x[c] - lse);
    dx[c] = c == target ? w * (p - 1.0f) : w * p;
  }
}

}  // namespace

int CrossEntropy(float* nll, float* d_logits, const float* logits, const int32_t* targets,
                 const float* weights, int64_t n, int64_t v, Stream stream) {
  if (n == 0) return 0;
  CrossEntropyKernel<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(nll, d_logits, logits,
                                                                        targets, weights, v);
  return LaunchStatus();
}

}  // namespace gpu
}  // namespace gisp
