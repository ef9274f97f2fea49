// Causal grouped-query attention (flash-attention style, f32). Launchers return a cudaError_t
// value (0 = queued on `stream`). See attention.cu for the tiling and the determinism argument.
#ifndef GISP_BACKEND_CUDA_ATTENTION_H_
#define GISP_BACKEND_CUDA_ATTENTION_H_

#include <cstdint>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

struct AttentionShape {
  int64_t b = 0, tq = 0, tk = 0, hq = 0, kv = 0, dh = 0;
};

// The largest head size the kernels handle.
constexpr int64_t kMaxAttentionHeadDim = 256;

// Bytes of dynamic shared memory one block of the forward (backward = false) or backward
// kernels needs for head size dh (<= kMaxAttentionHeadDim). The backend compares it with the
// device's opt-in limit before launching.
int64_t AttentionSharedBytes(int64_t dh, bool backward);

// out: [B, Tq, Hq, Dh]; lse: [B, Hq, Tq]; q: [B, Tq, Hq, Dh]; k, v: [B, Tk, KV, Dh];
// kv_map: i32 [Hq] on the device, entries in [0, KV). Query t sits at position Tk - Tq + t and
// sees keys 0..Tk-Tq+t. Requires Tk >= Tq.
int AttentionForward(float* out, float* lse, const float* q, const float* k, const float* v,
                     const int32_t* kv_map, const AttentionShape& shape, float scale,
                     Stream stream);

// d_q: [B, Tq, Hq, Dh]; d_k, d_v: [B, Tk, KV, Dh] (all overwritten); row_dot: f32 scratch of
// B * Hq * Tq elements; the rest as the forward pass, with out and lse from it.
int AttentionBackward(float* d_q, float* d_k, float* d_v, float* row_dot, const float* d_out,
                      const float* q, const float* k, const float* v, const float* out,
                      const float* lse, const int32_t* kv_map, const AttentionShape& shape,
                      float scale, Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_ATTENTION_H_
