#include "gisp/backend/cpu/cpu_backend.h"

#include <omp.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/backend/checks.h"
#include "gisp/backend/cpu/gemm.h"
#include "gisp/backend/cpu/ops.h"
#include "gisp/backend/cpu/scratch.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

absl::Status HostF32(absl::string_view verb, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (t->empty()) continue;
    if (!t->device().is_cpu()) {
      return absl::InvalidArgumentError(
          absl::StrCat(verb, ": tensor on ", t->device().ToString(), " given to the CPU backend"));
    }
    if (t->dtype() != DType::kF32 && t->dtype() != DType::kI32) {
      return absl::InvalidArgumentError(
          absl::StrCat(verb, ": CPU kernels compute in f32, got ", t->DebugString()));
    }
  }
  return absl::OkStatus();
}

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::Cpu(); }

  std::string name() const override {
    return absl::StrCat("cpu (oneDNN ", OneDnnVersion(), ", ", omp_get_max_threads(), " threads)");
  }

  absl::StatusOr<Tensor> Allocate(Shape shape, DType dtype) override {
    return Tensor::Host(std::move(shape), dtype);
  }

  absl::Status Copy(const Tensor& out, const Tensor& src) override {
    GISP_CHECK_ARG(out.device().is_cpu() && src.device().is_cpu(),
                   "Copy: the CPU backend copies host tensors only");
    GISP_CHECK_ARG(out.numel() == src.numel(), "Copy: ", src.DebugString(), " into ",
                   out.DebugString());
    const int64_t n = src.numel();
    constexpr int64_t kBlock = 1 << 16;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    const size_t in_size = DTypeSize(src.dtype());
    const size_t out_size = DTypeSize(out.dtype());
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t begin = b * kBlock;
      const int64_t count = std::min(kBlock, n - begin);
      ConvertElements(src.dtype(), static_cast<const char*>(src.raw()) + begin * in_size,
                      out.dtype(), static_cast<char*>(out.raw()) + begin * out_size,
                      static_cast<size_t>(count));
    }
    return absl::OkStatus();
  }

  absl::Status Fill(const Tensor& out, float value) override {
    GISP_RETURN_IF_ERROR(checks::F32("Fill", "out", out));
    cpu::Fill(out.f32(), value, out.numel());
    return absl::OkStatus();
  }

  absl::Status Synchronize() override { return absl::OkStatus(); }

  absl::Status Gemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b, bool trans_b,
                    float alpha, float beta) override {
    checks::GemmDims d;
    GISP_RETURN_IF_ERROR(checks::Gemm(out, a, trans_a, b, trans_b, &d));
    GISP_RETURN_IF_ERROR(checks::F32("Gemm", "a", a));
    GISP_RETURN_IF_ERROR(checks::F32("Gemm", "b", b));
    GISP_RETURN_IF_ERROR(checks::F32("Gemm", "out", out));
    GISP_RETURN_IF_ERROR(HostF32("Gemm", {&out, &a, &b}));
    return gemm_.Run(out.f32(), a.f32(), trans_a, b.f32(), trans_b, d.batch, d.m, d.n, d.k, alpha,
                     beta);
  }

  absl::Status Add(const Tensor& out, const Tensor& a, const Tensor& b) override {
    GISP_RETURN_IF_ERROR(checks::SameShape("Add", out, a));
    GISP_RETURN_IF_ERROR(checks::SameShape("Add", a, b));
    GISP_RETURN_IF_ERROR(HostF32("Add", {&out, &a, &b}));
    cpu::Add(out.f32(), a.f32(), b.f32(), out.numel());
    return absl::OkStatus();
  }

  absl::Status Axpy(const Tensor& y, float alpha, const Tensor& x) override {
    GISP_RETURN_IF_ERROR(checks::SameShape("Axpy", y, x));
    GISP_RETURN_IF_ERROR(HostF32("Axpy", {&y, &x}));
    cpu::Axpy(y.f32(), alpha, x.f32(), y.numel());
    return absl::OkStatus();
  }

  absl::Status EmbeddingForward(const Tensor& out, const Tensor& table,
                                const Tensor& ids) override {
    GISP_RETURN_IF_ERROR(checks::Embedding(out, table, ids));
    GISP_RETURN_IF_ERROR(HostF32("EmbeddingForward", {&out, &table, &ids}));
    GISP_RETURN_IF_ERROR(checks::Indices(
        "EmbeddingForward", absl::MakeConstSpan(ids.i32(), ids.numel()), table.dim(0)));
    cpu::EmbeddingForward(out.f32(), table.f32(), ids.i32(), out.dim(0), out.dim(1));
    return absl::OkStatus();
  }

  absl::Status EmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                 const Tensor& ids) override {
    GISP_RETURN_IF_ERROR(checks::Embedding(d_out, d_table, ids));
    GISP_RETURN_IF_ERROR(HostF32("EmbeddingBackward", {&d_table, &d_out, &ids}));
    GISP_RETURN_IF_ERROR(checks::Indices(
        "EmbeddingBackward", absl::MakeConstSpan(ids.i32(), ids.numel()), d_table.dim(0)));
    cpu::EmbeddingBackward(d_table.f32(), d_out.f32(), ids.i32(), d_out.dim(0), d_out.dim(1));
    return absl::OkStatus();
  }

  absl::Status RmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                              const Tensor& weight, float eps) override {
    GISP_RETURN_IF_ERROR(checks::RmsNorm(out, inv_rms, x, weight));
    GISP_RETURN_IF_ERROR(HostF32("RmsNormForward", {&out, &inv_rms, &x, &weight}));
    cpu::RmsNormForward(out.f32(), inv_rms.f32(), x.f32(), weight.f32(), eps, x.dim(0), x.dim(1));
    return absl::OkStatus();
  }

  absl::Status RmsNormBackward(const Tensor& d_x, const Tensor& d_weight, const Tensor& d_out,
                               const Tensor& x, const Tensor& weight,
                               const Tensor& inv_rms) override {
    GISP_RETURN_IF_ERROR(checks::RmsNorm(d_out, inv_rms, x, weight));
    GISP_RETURN_IF_ERROR(checks::SameShape("RmsNormBackward", d_x, x));
    GISP_CHECK_ARG(d_weight.empty() || d_weight.shape() == weight.shape(),
                   "RmsNormBackward: d_weight ", d_weight.DebugString(), " for weight ",
                   weight.DebugString());
    GISP_RETURN_IF_ERROR(
        HostF32("RmsNormBackward", {&d_x, &d_weight, &d_out, &x, &weight, &inv_rms}));
    cpu::RmsNormBackward(d_x.f32(), d_weight.empty() ? nullptr : d_weight.f32(), d_out.f32(),
                         x.f32(), weight.f32(), inv_rms.f32(), x.dim(0), x.dim(1), &scratch_);
    return absl::OkStatus();
  }

  absl::Status Rope(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset,
                    bool inverse) override {
    GISP_RETURN_IF_ERROR(checks::Rope(x, cos, sin, pos_offset));
    GISP_RETURN_IF_ERROR(HostF32("Rope", {&x, &cos, &sin}));
    cpu::Rope(x.f32(), cos.f32(), sin.f32(), pos_offset, inverse, x.dim(0), x.dim(1), x.dim(2),
              x.dim(3));
    return absl::OkStatus();
  }

  absl::Status AttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                const Tensor& k, const Tensor& v, absl::Span<const int32_t> kv_map,
                                float scale) override {
    checks::AttentionDims d;
    GISP_RETURN_IF_ERROR(checks::Attention(out, lse, q, k, v, kv_map, &d));
    GISP_RETURN_IF_ERROR(HostF32("AttentionForward", {&out, &lse, &q, &k, &v}));
    return cpu::AttentionForward(out.f32(), lse.f32(), q.f32(), k.f32(), v.f32(), kv_map, scale,
                                 {d.b, d.tq, d.tk, d.hq, d.kv, d.dh}, &gemm_, &scratch_);
  }

  absl::Status AttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                                 const Tensor& d_out, const Tensor& q, const Tensor& k,
                                 const Tensor& v, const Tensor& out, const Tensor& lse,
                                 absl::Span<const int32_t> kv_map, float scale) override {
    checks::AttentionDims d;
    GISP_RETURN_IF_ERROR(
        checks::AttentionBackward(d_q, d_k, d_v, d_out, q, k, v, out, lse, kv_map, &d));
    GISP_RETURN_IF_ERROR(
        HostF32("AttentionBackward", {&d_q, &d_k, &d_v, &d_out, &q, &k, &v, &out, &lse}));
    return cpu::AttentionBackward(d_q.f32(), d_k.f32(), d_v.f32(), d_out.f32(), q.f32(), k.f32(),
                                  v.f32(), out.f32(), lse.f32(), kv_map, scale,
                                  {d.b, d.tq, d.tk, d.hq, d.kv, d.dh}, &gemm_, &scratch_);
  }

  absl::Status SwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) override {
    GISP_RETURN_IF_ERROR(checks::SameShape("SwigluForward", out, gate));
    GISP_RETURN_IF_ERROR(checks::SameShape("SwigluForward", gate, up));
    GISP_RETURN_IF_ERROR(HostF32("SwigluForward", {&out, &gate, &up}));
    cpu::SwigluForward(out.f32(), gate.f32(), up.f32(), out.numel());
    return absl::OkStatus();
  }

  absl::Status SwigluBackward(const Tensor& d_gate, const Tensor& d_up, const Tensor& d_out,
                              const Tensor& gate, const Tensor& up) override {
    GISP_RETURN_IF_ERROR(checks::SameShape("SwigluBackward", d_out, gate));
    GISP_RETURN_IF_ERROR(checks::SameShape("SwigluBackward", gate, up));
    GISP_RETURN_IF_ERROR(checks::SameShape("SwigluBackward", d_gate, gate));
    GISP_RETURN_IF_ERROR(checks::SameShape("SwigluBackward", d_up, up));
    GISP_RETURN_IF_ERROR(HostF32("SwigluBackward", {&d_gate, &d_up, &d_out, &gate, &up}));
    cpu::SwigluBackward(d_gate.f32(), d_up.f32(), d_out.f32(), gate.f32(), up.f32(), gate.numel());
    return absl::OkStatus();
  }

  absl::Status CrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                            const Tensor& targets, const Tensor& weights) override {
    GISP_RETURN_IF_ERROR(checks::CrossEntropy(nll, d_logits, logits, targets, weights));
    GISP_RETURN_IF_ERROR(HostF32("CrossEntropy", {&nll, &d_logits, &logits, &targets, &weights}));
    return cpu::CrossEntropy(nll.f32(), d_logits.empty() ? nullptr : d_logits.f32(), logits.f32(),
                             targets.i32(), weights.f32(), logits.dim(0), logits.dim(1));
  }

  absl::Status AddBias(const Tensor& y, const Tensor& bias) override {
    int64_t rows = 0, cols = 0;
    GISP_RETURN_IF_ERROR(checks::RowsCols("AddBias", y, &rows, &cols));
    GISP_CHECK_ARG(bias.rank() == 1 && bias.dim(0) == cols, "AddBias: bias ", bias.DebugString(),
                   " for y ", y.DebugString());
    GISP_RETURN_IF_ERROR(HostF32("AddBias", {&y, &bias}));
    cpu::AddBias(y.f32(), bias.f32(), rows, cols);
    return absl::OkStatus();
  }

  absl::Status ColumnSum(const Tensor& d_bias, const Tensor& d_y) override {
    int64_t rows = 0, cols = 0;
    GISP_RETURN_IF_ERROR(checks::RowsCols("ColumnSum", d_y, &rows, &cols));
    GISP_CHECK_ARG(d_bias.rank() == 1 && d_bias.dim(0) == cols, "ColumnSum: d_bias ",
                   d_bias.DebugString(), " for d_y ", d_y.DebugString());
    GISP_RETURN_IF_ERROR(HostF32("ColumnSum", {&d_bias, &d_y}));
    cpu::ColumnSum(d_bias.f32(), d_y.f32(), rows, cols);
    return absl::OkStatus();
  }

  absl::Status AbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) override {
    int64_t rows = 0, cols = 0;
    GISP_RETURN_IF_ERROR(checks::RowsCols("AbsProdRowSum", w, &rows, &cols));
    GISP_RETURN_IF_ERROR(checks::SameShape("AbsProdRowSum", w, g));
    GISP_CHECK_ARG(out.rank() == 1 && out.dim(0) == rows, "AbsProdRowSum: out ", out.DebugString(),
                   " for w ", w.DebugString());
    GISP_RETURN_IF_ERROR(HostF32("AbsProdRowSum", {&out, &w, &g}));
    cpu::AbsProdRowSum(out.f32(), w.f32(), g.f32(), rows, cols);
    return absl::OkStatus();
  }

  absl::Status AbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) override {
    int64_t rows = 0, cols = 0;
    GISP_RETURN_IF_ERROR(checks::RowsCols("AbsProdColSum", w, &rows, &cols));
    GISP_RETURN_IF_ERROR(checks::SameShape("AbsProdColSum", w, g));
    GISP_CHECK_ARG(out.rank() == 1 && out.dim(0) == cols, "AbsProdColSum: out ", out.DebugString(),
                   " for w ", w.DebugString());
    GISP_RETURN_IF_ERROR(HostF32("AbsProdColSum", {&out, &w, &g}));
    cpu::AbsProdColSum(out.f32(), w.f32(), g.f32(), rows, cols);
    return absl::OkStatus();
  }

  absl::Status GatherRows(const Tensor& out, const Tensor& in,
                          absl::Span<const int32_t> rows) override {
    int64_t r = 0, c = 0;
    GISP_RETURN_IF_ERROR(checks::GatherRows(out, in, rows, &r, &c));
    GISP_RETURN_IF_ERROR(HostF32("GatherRows", {&out, &in}));
    cpu::GatherRows(out.raw(), in.raw(), rows, c, DTypeSize(in.dtype()));
    return absl::OkStatus();
  }

  absl::Status GatherCols(const Tensor& out, const Tensor& in,
                          absl::Span<const int32_t> cols) override {
    GISP_RETURN_IF_ERROR(checks::GatherCols(out, in, cols));
    GISP_RETURN_IF_ERROR(checks::F32("GatherCols", "in", in));
    GISP_RETURN_IF_ERROR(checks::F32("GatherCols", "out", out));
    GISP_RETURN_IF_ERROR(HostF32("GatherCols", {&out, &in}));
    cpu::GatherCols(out.f32(), in.f32(), cols, in.dim(0), in.dim(1));
    return absl::OkStatus();
  }

  absl::Status ZeroRows(const Tensor& t, absl::Span<const int32_t> rows) override {
    int64_t r = 0, c = 0;
    GISP_RETURN_IF_ERROR(checks::RowsCols("ZeroRows", t, &r, &c));
    GISP_RETURN_IF_ERROR(checks::Indices("ZeroRows", rows, r));
    GISP_RETURN_IF_ERROR(HostF32("ZeroRows", {&t}));
    cpu::ZeroRows(t.raw(), rows, c, DTypeSize(t.dtype()));
    return absl::OkStatus();
  }

  absl::Status ZeroCols(const Tensor& t, absl::Span<const int32_t> cols) override {
    GISP_RETURN_IF_ERROR(checks::Rank("ZeroCols", "t", t, 2));
    GISP_RETURN_IF_ERROR(checks::F32("ZeroCols", "t", t));
    GISP_RETURN_IF_ERROR(checks::Indices("ZeroCols", cols, t.dim(1)));
    GISP_RETURN_IF_ERROR(HostF32("ZeroCols", {&t}));
    cpu::ZeroCols(t.f32(), cols, t.dim(0), t.dim(1));
    return absl::OkStatus();
  }

 private:
  OneDnnGemm gemm_;
  Scratch scratch_;
};

}  // namespace

std::unique_ptr<Backend> NewCpuBackend() { return std::make_unique<CpuBackend>(); }

}  // namespace gisp
