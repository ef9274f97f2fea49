// Backend: the narrow instruction set every device implements. Model, saliency and pruner code is
// written once against this interface; no device-specific code lives above it.
//
// Conventions
//  * Tensors are handles: arguments named out*, d_* (and in-place ones) are written, the rest
//    are read. Outputs come first.
//  * Parameter gradients accumulate (+=) so a calibration pass can sum over batches; input
//    gradients are overwritten (=) unless the verb says otherwise.
//  * Compute tensors are f32 and contiguous (row-major). A backend may accept other storage
//    dtypes where it says so (CUDA: bf16/f16 weights in Gemm).
//  * Errors (shape mismatch, out of memory, device failure) come back as a Status; nothing
//    aborts. Shape errors name the verb and the shapes.
//  * Results are deterministic: the same inputs on the same device and thread count give the
//    same bits.
#ifndef GISP_BACKEND_BACKEND_H_
#define GISP_BACKEND_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gisp/tensor/tensor.h"

namespace gisp {

class Backend {
 public:
  virtual ~Backend() = default;

  virtual Device device() const = 0;
  virtual std::string name() const = 0;  // "cpu (oneDNN 2.6.3, 2 threads)", "reference", ...

  // ---- Memory -------------------------------------------------------------------------------

  // A zero-filled tensor on this backend's device.
  virtual absl::StatusOr<Tensor> Allocate(Shape shape, DType dtype = DType::kF32) = 0;
  // Copies `src` (any device, any float dtype) into `out` (this device, same number of
  // elements), converting the dtype: load and store paths for checkpoints and results.
  virtual absl::Status Copy(const Tensor& out, const Tensor& src) = 0;
  // out[:] = value.
  virtual absl::Status Fill(const Tensor& out, float value) = 0;
  // Waits for queued work; reports deferred device errors.
  virtual absl::Status Synchronize() = 0;

  // ---- Dense linear algebra -----------------------------------------------------------------

  // out[i] = alpha * op(a[i]) @ op(b[i]) + beta * out[i] for every batch index i, where op(x) is
  // x or its transpose. a: [..., M, K] ([..., K, M] if trans_a); b: [..., K, N] ([..., N, K] if
  // trans_b); out: [..., M, N]. Leading (batch) dims must agree; rank 2 means no batch.
  // beta = 1 accumulates (weight gradients); beta = 0 ignores out's old contents.
  virtual absl::Status Gemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b,
                            bool trans_b, float alpha, float beta) = 0;

  // ---- Elementwise --------------------------------------------------------------------------

  // out = a + b (same shapes; out may alias a or b).
  virtual absl::Status Add(const Tensor& out, const Tensor& a, const Tensor& b) = 0;
  // y += alpha * x (same shapes).
  virtual absl::Status Axpy(const Tensor& y, float alpha, const Tensor& x) = 0;

  // ---- Embedding ----------------------------------------------------------------------------

  // out[n, :] = table[ids[n], :]. out: [N, D], table: [V, D], ids: i32 [N] in [0, V).
  virtual absl::Status EmbeddingForward(const Tensor& out, const Tensor& table,
                                        const Tensor& ids) = 0;
  // d_table[ids[n], :] += d_out[n, :]. Deterministic (no atomics across rows).
  virtual absl::Status EmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                         const Tensor& ids) = 0;

  // ---- RMSNorm ------------------------------------------------------------------------------

  // out = x * inv_rms * weight, inv_rms[n] = 1 / sqrt(mean(x[n,:]^2) + eps).
  // out: [N, D], inv_rms: [N] (saved for backward), x: [N, D], weight: [D].
  virtual absl::Status RmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                                      const Tensor& weight, float eps) = 0;
  // d_x += dL/dx (accumulates: d_x usually already holds the residual gradient);
  // d_weight += dL/dweight unless d_weight is empty.
  virtual absl::Status RmsNormBackward(const Tensor& d_x, const Tensor& d_weight,
                                       const Tensor& d_out, const Tensor& x, const Tensor& weight,
                                       const Tensor& inv_rms) = 0;

  // ---- Rotary position embedding ------------------------------------------------------------

  // In place on x: [B, T, H, Dh], rotate-half convention (HF Llama). cos, sin: [P, Dh/2] tables
  // for positions 0..P-1; token t of x sits at position pos_offset + t. inverse = true applies
  // the transpose rotation, which is the backward pass (RoPE is orthogonal).
  virtual absl::Status Rope(const Tensor& x, const Tensor& cos, const Tensor& sin,
                            int64_t pos_offset, bool inverse) = 0;

  // ---- Attention ----------------------------------------------------------------------------

  // Causal grouped-query attention. Query token t (at position Tk - Tq + t) attends to key
  // tokens 0..Tk-Tq+t. Query head h reads KV head kv_map[h].
  // out: [B, Tq, Hq, Dh]; lse: [B, Hq, Tq] (log-sum-exp of the scaled scores, saved for
  // backward); q: [B, Tq, Hq, Dh]; k, v: [B, Tk, KV, Dh]; kv_map: Hq entries in [0, KV).
  virtual absl::Status AttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                        const Tensor& k, const Tensor& v,
                                        absl::Span<const int32_t> kv_map, float scale) = 0;
  // d_q: [B, Tq, Hq, Dh], d_k, d_v: [B, Tk, KV, Dh] (all overwritten); the rest as forward,
  // with out and lse from the forward pass.
  virtual absl::Status AttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                                         const Tensor& d_out, const Tensor& q, const Tensor& k,
                                         const Tensor& v, const Tensor& out, const Tensor& lse,
                                         absl::Span<const int32_t> kv_map, float scale) = 0;

  // ---- SwiGLU -------------------------------------------------------------------------------

  // out = silu(gate) * up; all [N, F].
  virtual absl::Status SwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) = 0;
  // d_gate, d_up = gradients given d_out; all [N, F]. d_gate/d_up may alias gate/up.
  virtual absl::Status SwigluBackward(const Tensor& d_gate, const Tensor& d_up, const Tensor& d_out,
                                      const Tensor& gate, const Tensor& up) = 0;

  // ---- Loss ---------------------------------------------------------------------------------

  // Softmax cross-entropy per row. logits: [N, V]; targets: i32 [N], -1 = ignored row;
  // weights: [N]. nll: [N] receives -log softmax(logits[n])[targets[n]] (0 for ignored rows).
  // If d_logits is not empty it receives weights[n] * (softmax(logits[n]) - onehot(target)),
  // the gradient of sum_n weights[n] * nll[n] (0 rows for ignored targets); d_logits may alias
  // logits to save memory.
  virtual absl::Status CrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                                    const Tensor& targets, const Tensor& weights) = 0;

  // ---- Bias ---------------------------------------------------------------------------------

  // y[n, :] += bias. y: [N, C], bias: [C].
  virtual absl::Status AddBias(const Tensor& y, const Tensor& bias) = 0;
  // d_bias += sum over rows of d_y. d_bias: [C], d_y: [N, C]. Deterministic order.
  virtual absl::Status ColumnSum(const Tensor& d_bias, const Tensor& d_y) = 0;

  // ---- Saliency -----------------------------------------------------------------------------

  // out[r] = sum_c |w[r, c] * g[r, c]| (f32 in, f32 out, double-free but deterministic order).
  // out: [R], w, g: [R, C].
  virtual absl::Status AbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) = 0;
  // out[c] = sum_r |w[r, c] * g[r, c]|. out: [C], w, g: [R, C].
  virtual absl::Status AbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) = 0;

  // ---- Masking and compaction ---------------------------------------------------------------

  // out[i, :] = in[rows[i], :]. out: [len(rows), C], in: [R, C] (rank 1 = one column).
  virtual absl::Status GatherRows(const Tensor& out, const Tensor& in,
                                  absl::Span<const int32_t> rows) = 0;
  // out[:, j] = in[:, cols[j]]. out: [R, len(cols)], in: [R, C].
  virtual absl::Status GatherCols(const Tensor& out, const Tensor& in,
                                  absl::Span<const int32_t> cols) = 0;
  // t[rows[i], :] = 0 (rank 1: t[rows[i]] = 0).
  virtual absl::Status ZeroRows(const Tensor& t, absl::Span<const int32_t> rows) = 0;
  // t[:, cols[j]] = 0.
  virtual absl::Status ZeroCols(const Tensor& t, absl::Span<const int32_t> cols) = 0;
};

// The CPU backend (oneDNN GEMMs, OpenMP loops). Always available.
absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackend();
// The naive double-accumulating reference backend: the test oracle, slow by design.
std::unique_ptr<Backend> CreateReferenceBackend();
// The CUDA backend on device `index`; Unavailable when gisp was built without CUDA or there is
// no usable GPU (the message says which).
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int index);

}  // namespace gisp

#endif  // GISP_BACKEND_BACKEND_H_
