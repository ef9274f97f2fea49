// Backend: the narrow instruction set every device implements. Model, saliency and pruner code is
// written once against this interface; no device-specific code lives above it.
//
// Shape of the interface (non-virtual interface idiom)
//  * Every public verb is non-virtual: it runs the argument checks shared by all backends once
//    (checks.h: shapes, dtypes, that every tensor lives on this backend's device) and then calls
//    the device's protected Do* hook. A backend therefore never re-checks arguments and every
//    device rejects the same bad call with the same message.
//  * Hooks may queue work (CUDA: one stream per backend). Verbs that hand data to the host
//    (Download) return only when the data is there; Synchronize reports deferred device errors.
//
// Conventions
//  * Tensors are handles: arguments named out*, d_* (and in-place ones) are written, the rest
//    are read. Outputs come first.
//  * Parameter gradients accumulate (+=) so a calibration pass can sum over batches; input
//    gradients are overwritten (=) unless the verb says otherwise.
//  * The compute dtype is f32 (the reference backend also computes in f64, as a test oracle).
//    Weights may be kept in a narrower storage dtype (bf16/f16) on backends whose
//    SupportsStorageDType says so; the verbs that read weights say where that is accepted.
//    Tensors are contiguous (row-major).
//  * Host data moves only through Upload / Download / UploadIndices. Verbs never read device
//    memory on the host: token ids and targets are validated by their producer (the model, once
//    per batch); index lists are validated when they are built.
//  * Errors (shape mismatch, out of memory, device failure) come back as a Status; nothing
//    aborts. Shape errors name the verb and the shapes.
//  * Results are deterministic: the same inputs on the same device and thread count give the
//    same bits.
#ifndef GISP_BACKEND_BACKEND_H_
#define GISP_BACKEND_BACKEND_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gisp/tensor/tensor.h"

namespace gisp {

// An i32 index list on a backend's device (kv_map, gather and zero lists). Built once per layout
// by Backend::UploadIndices, which checks on the host that every entry lies in [0, bound); verbs
// then only compare `bound` with the extent they index.
struct IndexList {
  Tensor values;      // i32 [n] on the backend's device
  int64_t bound = 0;  // every entry is in [0, bound)
  int64_t size() const { return values.empty() ? 0 : values.numel(); }
};

// Memory of a backend's device: what an allocation can still get, and the total.
struct MemoryInfo {
  int64_t free_bytes = 0;
  int64_t total_bytes = 0;
};

// Bytes held by the tensors a backend handed out (Allocate, AllocateZeroed, UploadIndices): what
// lives on its device because gisp asked for it. Scratch a verb keeps inside the backend (oneDNN's
// primitives, the CPU attention blocks) and a device runtime's own pools are not counted.
struct AllocationStats {
  int64_t live_bytes = 0;   // held now
  int64_t peak_bytes = 0;   // the most held at once since creation or ResetPeakBytes
  int64_t allocations = 0;  // tensors handed out since creation
};

// The shared counter behind AllocationStats. Tensors keep it alive (a tensor may outlive its
// backend) and give their bytes back when their buffer is released, on whatever thread that is.
struct AllocationCounter {
  std::atomic<int64_t> live{0};
  std::atomic<int64_t> peak{0};
  std::atomic<int64_t> allocations{0};
  void Add(int64_t bytes);
  void Release(int64_t bytes) { live.fetch_sub(bytes, std::memory_order_relaxed); }
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual Device device() const = 0;
  virtual std::string name() const = 0;  // "cpu (oneDNN 2.6.3, 2 threads)", "reference", ...

  // True for dtypes the verbs compute in (every backend: f32; the reference backend also f64).
  virtual bool SupportsComputeDType(DType dtype) const = 0;
  // True for dtypes weights may be stored in (Gemm operands, EmbeddingForward's table, the `w` of
  // the saliency reductions, gathers and zeroing). Compute dtypes always qualify.
  virtual bool SupportsStorageDType(DType dtype) const = 0;

  // ---- Memory and transfers -----------------------------------------------------------------

  // A tensor on this backend's device. Contents are unspecified: use it where every element is
  // written before it is read (the activation workspace, compaction targets, transfer targets).
  absl::StatusOr<Tensor> Allocate(Shape shape, DType dtype = DType::kF32);
  // A zero-filled tensor (gradient accumulators).
  absl::StatusOr<Tensor> AllocateZeroed(Shape shape, DType dtype = DType::kF32);
  // Free and total memory of the device (host RAM for the CPU backends). Callers size budgets
  // from it (activation keeping, logits chunks) instead of fixed constants.
  absl::StatusOr<MemoryInfo> QueryMemory();
  // What this backend's tensors hold on its device, and the peak (the same accounting on every
  // device: the CPU backend's "device memory" is the host memory it allocated). Memory tests
  // compare modes with it (docs/memory.md); thread-safe.
  AllocationStats allocation_stats() const;
  // Starts a new peak from what is live now.
  void ResetPeakBytes();

  // Host -> device: `src` is a host tensor (for example a view into a memory-mapped checkpoint),
  // `out` a tensor of this device with the same number of elements. Float dtypes convert (any
  // pair among f64/f32/bf16/f16); i32 copies to i32.
  absl::Status Upload(const Tensor& out, const Tensor& src);
  // Device -> host: the converse; returns when the data is on the host.
  absl::Status Download(const Tensor& out, const Tensor& src);
  // Device -> device on this backend, with the same dtype rules.
  absl::Status Copy(const Tensor& out, const Tensor& src);
  // A device index list from host indices, each checked to lie in [0, bound).
  absl::StatusOr<IndexList> UploadIndices(absl::Span<const int32_t> indices, int64_t bound);
  // out[:] = value (compute dtype).
  absl::Status Fill(const Tensor& out, float value);
  // Waits for queued work; reports deferred device errors.
  absl::Status Synchronize();

  // ---- Dense linear algebra -----------------------------------------------------------------

  // out[i] = alpha * op(a[i]) @ op(b[i]) + beta * out[i] for every batch index i, where op(x) is
  // x or its transpose. a: [..., M, K] ([..., K, M] if trans_a); b: [..., K, N] ([..., N, K] if
  // trans_b); out: [..., M, N]. Leading (batch) dims must agree; rank 2 means no batch.
  // beta = 1 accumulates (weight gradients); beta = 0 ignores out's old contents. out is in the
  // compute dtype; a and b may be in a storage dtype (accumulation stays in the compute dtype).
  absl::Status Gemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b, bool trans_b,
                    float alpha, float beta);

  // ---- Elementwise --------------------------------------------------------------------------

  // out = a + b (same shapes; out may alias a or b).
  absl::Status Add(const Tensor& out, const Tensor& a, const Tensor& b);
  // y += alpha * x (same shapes).
  absl::Status Axpy(const Tensor& y, float alpha, const Tensor& x);

  // ---- Embedding ----------------------------------------------------------------------------

  // out[n, :] = table[ids[n], :]. out: [N, D], table: [V, D] (storage dtype allowed), ids: i32
  // [N], every entry in [0, V) (validated by the caller).
  absl::Status EmbeddingForward(const Tensor& out, const Tensor& table, const Tensor& ids);
  // d_table[ids[n], :] += d_out[n, :]. Deterministic (no float atomics).
  absl::Status EmbeddingBackward(const Tensor& d_table, const Tensor& d_out, const Tensor& ids);

  // ---- RMSNorm ------------------------------------------------------------------------------

  // out = x * inv_rms * weight, inv_rms[n] = 1 / sqrt(mean(x[n,:]^2) + eps).
  // out: [N, D], inv_rms: [N] (saved for backward), x: [N, D], weight: [D].
  absl::Status RmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                              const Tensor& weight, float eps);
  // d_x += dL/dx (accumulates: d_x usually already holds the residual gradient): [N, D];
  // d_weight += dL/dweight unless d_weight is empty: [D]. d_out: [N, D].
  absl::Status RmsNormBackward(const Tensor& d_x, const Tensor& d_weight, const Tensor& d_out,
                               const Tensor& x, const Tensor& weight, const Tensor& inv_rms);

  // ---- Rotary position embedding ------------------------------------------------------------

  // In place on x: [B, T, H, Dh], rotate-half convention (HF Llama). cos, sin: [P, Dh/2] tables
  // for positions 0..P-1; token t of x sits at position pos_offset + t. inverse = true applies
  // the transpose rotation, which is the backward pass (RoPE is orthogonal).
  absl::Status Rope(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset,
                    bool inverse);

  // ---- Attention ----------------------------------------------------------------------------

  // Causal grouped-query attention. Query token t (at position Tk - Tq + t) attends to key
  // tokens 0..Tk-Tq+t. Query head h reads KV head kv_map[h].
  // out: [B, Tq, Hq, Dh]; lse: [B, Hq, Tq] (log-sum-exp of the scaled scores, saved for
  // backward); q: [B, Tq, Hq, Dh]; k, v: [B, Tk, KV, Dh]; kv_map: Hq entries, bound <= KV.
  absl::Status AttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                const Tensor& k, const Tensor& v, const IndexList& kv_map,
                                float scale);
  // d_q: [B, Tq, Hq, Dh], d_k, d_v: [B, Tk, KV, Dh] (all overwritten); the rest as forward,
  // with out and lse from the forward pass.
  absl::Status AttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                                 const Tensor& d_out, const Tensor& q, const Tensor& k,
                                 const Tensor& v, const Tensor& out, const Tensor& lse,
                                 const IndexList& kv_map, float scale);

  // ---- SwiGLU -------------------------------------------------------------------------------

  // out = silu(gate) * up; all [N, F].
  absl::Status SwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up);
  // d_gate, d_up = gradients given d_out; all [N, F]. d_gate/d_up may alias gate/up.
  absl::Status SwigluBackward(const Tensor& d_gate, const Tensor& d_up, const Tensor& d_out,
                              const Tensor& gate, const Tensor& up);

  // ---- Loss ---------------------------------------------------------------------------------

  // Softmax cross-entropy per row. logits: [N, V]; targets: i32 [N] in [-1, V) (validated by
  // the caller), -1 = ignored row; weights: [N]. nll: [N] receives -log softmax(logits[n])
  // [targets[n]] (0 for ignored rows). If d_logits is not empty it receives
  // weights[n] * (softmax(logits[n]) - onehot(target)), the gradient of sum_n weights[n] *
  // nll[n] (0 rows for ignored targets); d_logits may alias logits to save memory.
  absl::Status CrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                            const Tensor& targets, const Tensor& weights);

  // ---- Bias ---------------------------------------------------------------------------------

  // y[n, :] += bias. y: [N, C], bias: [C].
  absl::Status AddBias(const Tensor& y, const Tensor& bias);
  // d_bias += sum over rows of d_y. d_bias: [C], d_y: [N, C]. Deterministic order.
  absl::Status ColumnSum(const Tensor& d_bias, const Tensor& d_y);

  // ---- Saliency -----------------------------------------------------------------------------

  // out[r] = sum_c |w[r, c] * g[r, c]|, accumulated in double in a fixed order.
  // out: f64 [R] (overwritten), w: [R, C] (storage dtype allowed), g: [R, C] (compute dtype).
  // Callers point `out` at slices of one buffer and download it once per step.
  absl::Status AbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g);
  // out[c] = sum_r |w[r, c] * g[r, c]|. out: f64 [C], w, g: [R, C].
  absl::Status AbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g);

  // ---- Masking and compaction (any dtype) ---------------------------------------------------

  // out[i, :] = in[rows[i], :]. out: [len(rows), C], in: [R, C] (rank 1 = one column).
  absl::Status GatherRows(const Tensor& out, const Tensor& in, const IndexList& rows);
  // out[:, j] = in[:, cols[j]]. out: [R, len(cols)], in: [R, C].
  absl::Status GatherCols(const Tensor& out, const Tensor& in, const IndexList& cols);
  // t[rows[i], :] = 0 (rank 1: t[rows[i]] = 0).
  absl::Status ZeroRows(const Tensor& t, const IndexList& rows);
  // t[:, cols[j]] = 0. t: [R, C].
  absl::Status ZeroCols(const Tensor& t, const IndexList& cols);

 protected:
  // The device hooks. Each runs only after the public verb's checks passed, so it may assume
  // the documented shapes, dtypes and device placement.
  virtual absl::StatusOr<Tensor> DoAllocate(Shape shape, DType dtype) = 0;
  virtual absl::StatusOr<MemoryInfo> DoQueryMemory() = 0;
  virtual absl::Status DoUpload(const Tensor& out, const Tensor& src) = 0;
  virtual absl::Status DoDownload(const Tensor& out, const Tensor& src) = 0;
  virtual absl::Status DoCopy(const Tensor& out, const Tensor& src) = 0;
  virtual absl::Status DoFill(const Tensor& out, float value) = 0;
  virtual absl::Status DoSynchronize() = 0;
  virtual absl::Status DoGemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b,
                              bool trans_b, float alpha, float beta) = 0;
  virtual absl::Status DoAdd(const Tensor& out, const Tensor& a, const Tensor& b) = 0;
  virtual absl::Status DoAxpy(const Tensor& y, float alpha, const Tensor& x) = 0;
  virtual absl::Status DoEmbeddingForward(const Tensor& out, const Tensor& table,
                                          const Tensor& ids) = 0;
  virtual absl::Status DoEmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                           const Tensor& ids) = 0;
  virtual absl::Status DoRmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                                        const Tensor& weight, float eps) = 0;
  virtual absl::Status DoRmsNormBackward(const Tensor& d_x, const Tensor& d_weight,
                                         const Tensor& d_out, const Tensor& x,
                                         const Tensor& weight, const Tensor& inv_rms) = 0;
  virtual absl::Status DoRope(const Tensor& x, const Tensor& cos, const Tensor& sin,
                              int64_t pos_offset, bool inverse) = 0;
  virtual absl::Status DoAttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                          const Tensor& k, const Tensor& v,
                                          const IndexList& kv_map, float scale) = 0;
  virtual absl::Status DoAttentionBackward(const Tensor& d_q, const Tensor& d_k,
                                           const Tensor& d_v, const Tensor& d_out,
                                           const Tensor& q, const Tensor& k, const Tensor& v,
                                           const Tensor& out, const Tensor& lse,
                                           const IndexList& kv_map, float scale) = 0;
  virtual absl::Status DoSwigluForward(const Tensor& out, const Tensor& gate,
                                       const Tensor& up) = 0;
  virtual absl::Status DoSwigluBackward(const Tensor& d_gate, const Tensor& d_up,
                                        const Tensor& d_out, const Tensor& gate,
                                        const Tensor& up) = 0;
  virtual absl::Status DoCrossEntropy(const Tensor& nll, const Tensor& d_logits,
                                      const Tensor& logits, const Tensor& targets,
                                      const Tensor& weights) = 0;
  virtual absl::Status DoAddBias(const Tensor& y, const Tensor& bias) = 0;
  virtual absl::Status DoColumnSum(const Tensor& d_bias, const Tensor& d_y) = 0;
  virtual absl::Status DoAbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) = 0;
  virtual absl::Status DoAbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) = 0;
  virtual absl::Status DoGatherRows(const Tensor& out, const Tensor& in,
                                    const IndexList& rows) = 0;
  virtual absl::Status DoGatherCols(const Tensor& out, const Tensor& in,
                                    const IndexList& cols) = 0;
  virtual absl::Status DoZeroRows(const Tensor& t, const IndexList& rows) = 0;
  virtual absl::Status DoZeroCols(const Tensor& t, const IndexList& cols) = 0;

 private:
  // Wraps a freshly allocated tensor's buffer so that its bytes are counted until it is released.
  Tensor Counted(const Tensor& t);

  std::shared_ptr<AllocationCounter> counter_ = std::make_shared<AllocationCounter>();

  // Every non-empty tensor shares one dtype this backend computes in; returns it in `dtype`.
  absl::Status CheckCompute(absl::string_view verb, std::initializer_list<const Tensor*> tensors,
                            DType* dtype) const;
  // `t` is in the compute dtype or in a storage dtype this backend accepts for weights.
  absl::Status CheckStorage(absl::string_view verb, absl::string_view arg, const Tensor& t,
                            DType compute) const;
};

// The CPU backend (oneDNN GEMMs, OpenMP loops), with the best kernel copy this CPU runs
// (AVX-512, else AVX2+FMA; "generic" off x86-64), chosen from CPUID; the environment variable
// GISP_CPU_ISA=auto|avx2|avx512 forces one. FailedPrecondition on an x86-64 CPU without AVX2 or
// when the forced ISA is missing from the CPU; InvalidArgument for an unknown GISP_CPU_ISA.
absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackend();
// The same with the kernel ISA given ("auto", "avx2", "avx512", "generic"), for tests and
// benchmarks that compare the copies; GISP_CPU_ISA is not read.
absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackendForIsa(const std::string& isa);
// The kernel ISAs this build has and this CPU runs, best first ("avx512", "avx2").
std::vector<std::string> AvailableCpuIsas();
// The naive double-accumulating reference backend: the test oracle, slow by design.
std::unique_ptr<Backend> CreateReferenceBackend();
// The CUDA backend on device `index`; Unavailable when gisp was built without CUDA or there is
// no usable GPU (the message says which).
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int index);

}  // namespace gisp

#endif  // GISP_BACKEND_BACKEND_H_
