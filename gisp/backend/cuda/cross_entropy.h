// Softmax cross-entropy. The launcher returns a cudaError_t value (0 = queued on `stream`).
#ifndef GISP_BACKEND_CUDA_CROSS_ENTROPY_H_
#define GISP_BACKEND_CUDA_CROSS_ENTROPY_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

// nll: [N] = logsumexp(logits[n]) - logits[n, targets[n]] (0 where targets[n] == -1).
// d_logits: [N, V] (nullptr: skip; may alias logits) = weights[n] * (softmax - onehot), 0 rows
// for ignored targets. logits: [N, V]; targets: i32 [N] in [-1, V); weights: [N].
int CrossEntropy(float* nll, float* d_logits, const float* logits, const int32_t* targets,
                 const float* weights, int64_t n, int64_t v, Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_CROSS_ENTROPY_H_
