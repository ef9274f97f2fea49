// The CUDA backend's compute hooks: GEMMs through cuBLAS (with the mixed-dtype conversion), and
// the launchers of the kernels in the .cu files. Every hook makes the backend's GPU current,
// queues its work on the backend's stream and turns the launch status into a Status naming the
// verb and its tensors.
#include <cstddef>
#include <cstdint>

#include "gisp/backend/cuda/attention.h"
#include "gisp/backend/cuda/bias.h"
#include "gisp/backend/cuda/column_reduce.h"
#include "gisp/backend/cuda/convert.h"
#include "gisp/backend/cuda/cross_entropy.h"
#include "gisp/backend/cuda/cuda_backend.h"
#include "gisp/backend/cuda/elementwise.h"
#include "gisp/backend/cuda/embedding.h"
#include "gisp/backend/cuda/gather.h"
#include "gisp/backend/cuda/rms_norm.h"
#include "gisp/backend/cuda/rope.h"
#include "gisp/backend/cuda/saliency.h"
#include "gisp/backend/cuda/swiglu.h"
#include "gisp/base/status.h"

namespace gisp {
namespace cuda_internal {

// ---- Dense linear algebra -------------------------------------------------------------------

absl::Status CudaBackend::DoGemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b,
                                 bool trans_b, float alpha, float beta) {
  GISP_RETURN_IF_ERROR(Activate("Gemm"));
  int64_t batch = 1;
  for (int i = 0; i < out.rank() - 2; ++i) batch *= out.dim(i);
  const int64_t m = out.dim(-2);
  const int64_t n = out.dim(-1);
  const int64_t k = trans_a ? a.dim(-2) : a.dim(-1);
  if (batch == 0 || m == 0 || n == 0) return absl::OkStatus();
  if (k == 0) {  // out = beta * out; the operands are empty (and may have no memory at all)
    if (beta == 1.0f) return absl::OkStatus();
    if (beta == 0.0f) {
      return CudaCheck(gpu::MemsetAsync(out.raw(), 0, out.bytes(), stream()), "Gemm",
                       {&out, &a, &b});
    }
    // beta * out exactly, as the CPU backend computes it.
    return CudaCheck(gpu::Scale(out.f32(), beta, out.numel(), stream()), "Gemm", {&out, &a, &b});
  }

  const void* pa = a.raw();
  const void* pb = b.raw();
  DType type = a.dtype();
  if (a.dtype() != b.dtype()) {
    // Mixed operands (f32 activations x 16-bit weights): convert the f32 one to the other's
    // 16-bit type and run the tensor-core GEMM with f32 accumulation. bf16 x f16 (no model
    // mixes them) goes through f32 instead.
    const bool a_to_b = a.dtype() == DType::kF32;
    const bool b_to_a = b.dtype() == DType::kF32;
    type = a_to_b ? b.dtype() : (b_to_a ? a.dtype() : DType::kF32);
    const size_t es = DTypeSize(type);
    const size_t a_bytes = a.dtype() == type ? 0 : static_cast<size_t>(a.numel()) * es;
    const size_t a_aligned = (a_bytes + 255) / 256 * 256;
    const size_t b_bytes = b.dtype() == type ? 0 : static_cast<size_t>(b.numel()) * es;
    void* scratch = nullptr;
    GISP_ASSIGN_OR_RETURN(scratch, Scratch(a_aligned + b_bytes, "Gemm", {&out, &a, &b}));
    if (a_bytes > 0) {
      GISP_RETURN_IF_ERROR(CudaCheck(
          gpu::Convert(scratch, ToElem(type), a.raw(), ToElem(a.dtype()), a.numel(), stream()),
          "Gemm", {&out, &a, &b}));
      pa = scratch;
    }
    if (b_bytes > 0) {
      void* dst = static_cast<char*>(scratch) + a_aligned;
      GISP_RETURN_IF_ERROR(CudaCheck(
          gpu::Convert(dst, ToElem(type), b.raw(), ToElem(b.dtype()), b.numel(), stream()), "Gemm",
          {&out, &a, &b}));
      pb = dst;
    }
  }
  return BlasCheck(gpu::RowMajorGemm(blas_, ToElem(type), pa, trans_a, pb, trans_b, out.f32(),
                                     batch, m, n, k, alpha, beta),
                   "Gemm", {&out, &a, &b});
}

// ---- Elementwise, embedding, normalization --------------------------------------------------

absl::Status CudaBackend::DoAdd(const Tensor& out, const Tensor& a, const Tensor& b) {
  GISP_RETURN_IF_ERROR(Activate("Add"));
  return CudaCheck(gpu::Add(out.f32(), a.f32(), b.f32(), out.numel(), stream()), "Add",
                   {&out, &a, &b});
}

absl::Status CudaBackend::DoAxpy(const Tensor& y, float alpha, const Tensor& x) {
  GISP_RETURN_IF_ERROR(Activate("Axpy"));
  return CudaCheck(gpu::Axpy(y.f32(), alpha, x.f32(), y.numel(), stream()), "Axpy", {&y, &x});
}

absl::Status CudaBackend::DoEmbeddingForward(const Tensor& out, const Tensor& table,
                                             const Tensor& ids) {
  GISP_RETURN_IF_ERROR(Activate("EmbeddingForward"));
  return CudaCheck(gpu::EmbeddingForward(out.f32(), table.raw(), ToElem(table.dtype()), ids.i32(),
                                         out.dim(0), out.dim(1), stream()),
                   "EmbeddingForward", {&out, &table, &ids});
}

absl::Status CudaBackend::DoEmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                              const Tensor& ids) {
  GISP_RETURN_IF_ERROR(Activate("EmbeddingBackward"));
  return CudaCheck(gpu::EmbeddingBackward(d_table.f32(), d_out.f32(), ids.i32(), d_out.dim(0),
                                          d_out.dim(1), stream()),
                   "EmbeddingBackward", {&d_table, &d_out, &ids});
}

absl::Status CudaBackend::DoRmsNormForward(const Tensor& out, const Tensor& inv_rms,
                                           const Tensor& x, const Tensor& weight, float eps) {
  GISP_RETURN_IF_ERROR(Activate("RmsNormForward"));
  return CudaCheck(gpu::RmsNormForward(out.f32(), inv_rms.f32(), x.f32(), weight.f32(), eps,
                                       x.dim(0), x.dim(1), stream()),
                   "RmsNormForward", {&out, &inv_rms, &x, &weight});
}

absl::Status CudaBackend::DoRmsNormBackward(const Tensor& d_x, const Tensor& d_weight,
                                            const Tensor& d_out, const Tensor& x,
                                            const Tensor& weight, const Tensor& inv_rms) {
  GISP_RETURN_IF_ERROR(Activate("RmsNormBackward"));
  const int64_t n = x.dim(0), d = x.dim(1);
  double* partials = nullptr;
  if (!d_weight.empty()) {
    void* scratch = nullptr;
    GISP_ASSIGN_OR_RETURN(scratch, Scratch(static_cast<size_t>(gpu::ColumnReduceScratchBytes(n, d)),
                                           "RmsNormBackward", {&d_x, &d_weight, &x}));
    partials = static_cast<double*>(scratch);
  }
  return CudaCheck(
      gpu::RmsNormBackward(d_x.f32(), d_weight.empty() ? nullptr : d_weight.f32(), partials,
                           d_out.f32(), x.f32(), weight.f32(), inv_rms.f32(), n, d, stream()),
      "RmsNormBackward", {&d_x, &d_weight, &d_out, &x, &weight, &inv_rms});
}

absl::Status CudaBackend::DoRope(const Tensor& x, const Tensor& cos, const Tensor& sin,
                                 int64_t pos_offset, bool inverse) {
  GISP_RETURN_IF_ERROR(Activate("Rope"));
  return CudaCheck(gpu::Rope(x.f32(), cos.f32(), sin.f32(), pos_offset, inverse, x.dim(0), x.dim(1),
                             x.dim(2), x.dim(3), stream()),
                   "Rope", {&x, &cos, &sin});
}

// ---- Attention ------------------------------------------------------------------------------

namespace {

// q: [B, Tq, Hq, Dh]; k: [B, Tk, KV, Dh].
gpu::AttentionShape AttentionShapeOf(const Tensor& q, const Tensor& k) {
  gpu::AttentionShape s;
  s.b = q.dim(0);
  s.tq = q.dim(1);
  s.hq = q.dim(2);
  s.dh = q.dim(3);
  s.tk = k.dim(1);
  s.kv = k.dim(2);
  return s;
}

}  // namespace

absl::Status CudaBackend::DoAttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                             const Tensor& k, const Tensor& v,
                                             const IndexList& kv_map, float scale) {
  GISP_RETURN_IF_ERROR(Activate("AttentionForward"));
  const gpu::AttentionShape s = AttentionShapeOf(q, k);
  GISP_RETURN_IF_ERROR(CheckAttention("AttentionForward", q, k, false));
  return CudaCheck(gpu::AttentionForward(out.f32(), lse.f32(), q.f32(), k.f32(), v.f32(),
                                         Indices(kv_map), s, scale, stream()),
                   "AttentionForward", {&out, &lse, &q, &k, &v});
}

absl::Status CudaBackend::DoAttentionBackward(const Tensor& d_q, const Tensor& d_k,
                                              const Tensor& d_v, const Tensor& d_out,
                                              const Tensor& q, const Tensor& k, const Tensor& v,
                                              const Tensor& out, const Tensor& lse,
                                              const IndexList& kv_map, float scale) {
  GISP_RETURN_IF_ERROR(Activate("AttentionBackward"));
  const gpu::AttentionShape s = AttentionShapeOf(q, k);
  GISP_RETURN_IF_ERROR(CheckAttention("AttentionBackward", q, k, true));
  void* row_dot = nullptr;
  GISP_ASSIGN_OR_RETURN(row_dot, Scratch(static_cast<size_t>(lse.numel()) * sizeof(float),
                                         "AttentionBackward", {&q, &k, &v}));
  return CudaCheck(
      gpu::AttentionBackward(d_q.f32(), d_k.f32(), d_v.f32(), static_cast<float*>(row_dot),
                             d_out.f32(), q.f32(), k.f32(), v.f32(), out.f32(), lse.f32(),
                             Indices(kv_map), s, scale, stream()),
      "AttentionBackward", {&d_q, &d_k, &d_v, &d_out, &q, &k, &v, &out, &lse});
}

// ---- SwiGLU, loss, bias ---------------------------------------------------------------------

absl::Status CudaBackend::DoSwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) {
  GISP_RETURN_IF_ERROR(Activate("SwigluForward"));
  return CudaCheck(gpu::SwigluForward(out.f32(), gate.f32(), up.f32(), out.numel(), stream()),
                   "SwigluForward", {&out, &gate, &up});
}

absl::Status CudaBackend::DoSwigluBackward(const Tensor& d_gate, const Tensor& d_up,
                                           const Tensor& d_out, const Tensor& gate,
                                           const Tensor& up) {
  GISP_RETURN_IF_ERROR(Activate("SwigluBackward"));
  return CudaCheck(gpu::SwigluBackward(d_gate.f32(), d_up.f32(), d_out.f32(), gate.f32(), up.f32(),
                                       gate.numel(), stream()),
                   "SwigluBackward", {&d_gate, &d_up, &d_out, &gate, &up});
}

absl::Status CudaBackend::DoCrossEntropy(const Tensor& nll, const Tensor& d_logits,
                                         const Tensor& logits, const Tensor& targets,
                                         const Tensor& weights) {
  GISP_RETURN_IF_ERROR(Activate("CrossEntropy"));
  return CudaCheck(
      gpu::CrossEntropy(nll.f32(), d_logits.empty() ? nullptr : d_logits.f32(), logits.f32(),
                        targets.i32(), weights.f32(), logits.dim(0), logits.dim(1), stream()),
      "CrossEntropy", {&nll, &d_logits, &logits, &targets, &weights});
}

absl::Status CudaBackend::DoAddBias(const Tensor& y, const Tensor& bias) {
  GISP_RETURN_IF_ERROR(Activate("AddBias"));
  return CudaCheck(gpu::AddBias(y.f32(), bias.f32(), Rows(y), Cols(y), stream()), "AddBias",
                   {&y, &bias});
}

absl::Status CudaBackend::DoColumnSum(const Tensor& d_bias, const Tensor& d_y) {
  GISP_RETURN_IF_ERROR(Activate("ColumnSum"));
  const int64_t rows = Rows(d_y), cols = Cols(d_y);
  void* scratch = nullptr;
  GISP_ASSIGN_OR_RETURN(
      scratch, Scratch(static_cast<size_t>(gpu::ColumnReduceScratchBytes(rows, cols)), "ColumnSum",
                       {&d_bias, &d_y}));
  return CudaCheck(
      gpu::ColumnSum(d_bias.f32(), static_cast<double*>(scratch), d_y.f32(), rows, cols, stream()),
      "ColumnSum", {&d_bias, &d_y});
}

// ---- Saliency -------------------------------------------------------------------------------

absl::Status CudaBackend::DoAbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) {
  GISP_RETURN_IF_ERROR(Activate("AbsProdRowSum"));
  return CudaCheck(gpu::AbsProdRowSum(out.data<double>(), w.raw(), ToElem(w.dtype()), g.f32(),
                                      Rows(w), Cols(w), stream()),
                   "AbsProdRowSum", {&out, &w, &g});
}

absl::Status CudaBackend::DoAbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) {
  GISP_RETURN_IF_ERROR(Activate("AbsProdColSum"));
  const int64_t rows = Rows(w), cols = Cols(w);
  void* scratch = nullptr;
  GISP_ASSIGN_OR_RETURN(scratch,
                        Scratch(static_cast<size_t>(gpu::ColumnReduceScratchBytes(rows, cols)),
                                "AbsProdColSum", {&out, &w, &g}));
  return CudaCheck(gpu::AbsProdColSum(out.data<double>(), static_cast<double*>(scratch), w.raw(),
                                      ToElem(w.dtype()), g.f32(), rows, cols, stream()),
                   "AbsProdColSum", {&out, &w, &g});
}

// ---- Masking and compaction -----------------------------------------------------------------

absl::Status CudaBackend::DoGatherRows(const Tensor& out, const Tensor& in, const IndexList& rows) {
  GISP_RETURN_IF_ERROR(Activate("GatherRows"));
  return CudaCheck(gpu::GatherRows(out.raw(), in.raw(), Indices(rows), rows.size(), Cols(in),
                                   static_cast<int>(DTypeSize(in.dtype())), stream()),
                   "GatherRows", {&out, &in, &rows.values});
}

absl::Status CudaBackend::DoGatherCols(const Tensor& out, const Tensor& in, const IndexList& cols) {
  GISP_RETURN_IF_ERROR(Activate("GatherCols"));
  return CudaCheck(gpu::GatherCols(out.raw(), in.raw(), Indices(cols), in.dim(0), cols.size(),
                                   in.dim(1), static_cast<int>(DTypeSize(in.dtype())), stream()),
                   "GatherCols", {&out, &in, &cols.values});
}

absl::Status CudaBackend::DoZeroRows(const Tensor& t, const IndexList& rows) {
  GISP_RETURN_IF_ERROR(Activate("ZeroRows"));
  return CudaCheck(gpu::ZeroRows(t.raw(), Indices(rows), rows.size(), Cols(t),
                                 static_cast<int>(DTypeSize(t.dtype())), stream()),
                   "ZeroRows", {&t, &rows.values});
}

absl::Status CudaBackend::DoZeroCols(const Tensor& t, const IndexList& cols) {
  GISP_RETURN_IF_ERROR(Activate("ZeroCols"));
  return CudaCheck(gpu::ZeroCols(t.raw(), Indices(cols), t.dim(0), cols.size(), t.dim(1),
                                 static_cast<int>(DTypeSize(t.dtype())), stream()),
                   "ZeroCols", {&t, &cols.values});
}

}  // namespace cuda_internal
}  // namespace gisp
