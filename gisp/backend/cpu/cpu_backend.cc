#include "gisp/backend/cpu/cpu_backend.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/backend/cpu/gemm.h"
#include "gisp/backend/cpu/kernels.h"
#include "gisp/backend/cpu/scratch.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// The host span of an index list (the CPU backend's device is the host).
absl::Span<const int32_t> Host(const IndexList& list) {
  return list.size() == 0 ? absl::Span<const int32_t>()
                          : absl::MakeConstSpan(list.values.i32(), list.size());
}

// Host memory: MemAvailable / MemTotal from /proc/meminfo (what the kernel would hand out without
// swapping), falling back to sysconf where /proc is not mounted.
MemoryInfo HostMemory() {
  MemoryInfo info;
  if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
    char key[64];
    long long kb = 0;
    char unit[16];
    while (std::fscanf(f, "%63s %lld %15s", key, &kb, unit) == 3) {
      if (std::strcmp(key, "MemTotal:") == 0) info.total_bytes = kb * 1024;
      if (std::strcmp(key, "MemAvailable:") == 0) info.free_bytes = kb * 1024;
    }
    std::fclose(f);
  }
  if (info.total_bytes <= 0) {
    info.total_bytes = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  }
  if (info.free_bytes <= 0) {
    info.free_bytes = static_cast<int64_t>(sysconf(_SC_AVPHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  }
  return info;
}

// Converting copy between host tensors, in parallel blocks.
void ConvertCopy(const Tensor& out, const Tensor& src) {
  const int64_t n = src.numel();
  constexpr int64_t kBlock = 1 << 16;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  const size_t in_size = DTypeSize(src.dtype());
  const size_t out_size = DTypeSize(out.dtype());
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * kBlock;
    const int64_t count = std::min(kBlock, n - begin);
    ConvertElements(src.dtype(), static_cast<const char*>(src.raw()) + begin * in_size, out.dtype(),
                    static_cast<char*>(out.raw()) + begin * out_size, static_cast<size_t>(count));
  }
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const cpu::KernelTable* kernels) : k_(kernels) {}

  Device device() const override { return Device::Cpu(); }

  std::string name() const override {
    return absl::StrCat("cpu (", cpu::CpuIsaName(k_->isa), " kernels, oneDNN ", OneDnnVersion(),
                        ", ", omp_get_max_threads(), " threads)");
  }

  bool SupportsComputeDType(DType dtype) const override { return dtype == DType::kF32; }
  // Weights stay f32 on the CPU: oneDNN 2.6 has no bf16 x f32 matmul on AVX2 machines.
  bool SupportsStorageDType(DType dtype) const override { return dtype == DType::kF32; }

 protected:
  absl::StatusOr<Tensor> DoAllocate(Shape shape, DType dtype) override {
    return Tensor::HostUninitialized(std::move(shape), dtype);
  }

  absl::StatusOr<MemoryInfo> DoQueryMemory() override { return HostMemory(); }

  absl::Status DoUpload(const Tensor& out, const Tensor& src) override {
    ConvertCopy(out, src);
    return absl::OkStatus();
  }
  absl::Status DoDownload(const Tensor& out, const Tensor& src) override {
    ConvertCopy(out, src);
    return absl::OkStatus();
  }
  absl::Status DoCopy(const Tensor& out, const Tensor& src) override {
    ConvertCopy(out, src);
    return absl::OkStatus();
  }

  absl::Status DoFill(const Tensor& out, float value) override {
    k_->fill(out.f32(), value, out.numel());
    return absl::OkStatus();
  }

  absl::Status DoSynchronize() override { return absl::OkStatus(); }

  absl::Status DoGemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b,
                      bool trans_b, float alpha, float beta) override {
    const int64_t m = out.dim(-2), n = out.dim(-1);
    const int64_t k = trans_a ? a.dim(-2) : a.dim(-1);
    const int64_t batch = m * n > 0 ? out.numel() / (m * n) : 0;
    return gemm_.Run(out.f32(), a.f32(), trans_a, b.f32(), trans_b, batch, m, n, k, alpha, beta);
  }

  absl::Status DoAdd(const Tensor& out, const Tensor& a, const Tensor& b) override {
    k_->add(out.f32(), a.f32(), b.f32(), out.numel());
    return absl::OkStatus();
  }

  absl::Status DoAxpy(const Tensor& y, float alpha, const Tensor& x) override {
    k_->axpy(y.f32(), alpha, x.f32(), y.numel());
    return absl::OkStatus();
  }

  absl::Status DoEmbeddingForward(const Tensor& out, const Tensor& table,
                                  const Tensor& ids) override {
    k_->embedding_forward(out.f32(), table.f32(), ids.i32(), out.dim(0), out.dim(1));
    return absl::OkStatus();
  }

  absl::Status DoEmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                   const Tensor& ids) override {
    k_->embedding_backward(d_table.f32(), d_out.f32(), ids.i32(), d_out.dim(0), d_out.dim(1));
    return absl::OkStatus();
  }

  absl::Status DoRmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                                const Tensor& weight, float eps) override {
    k_->rms_norm_forward(out.f32(), inv_rms.f32(), x.f32(), weight.f32(), eps, x.dim(0), x.dim(1));
    return absl::OkStatus();
  }

  absl::Status DoRmsNormBackward(const Tensor& d_x, const Tensor& d_weight, const Tensor& d_out,
                                 const Tensor& x, const Tensor& weight,
                                 const Tensor& inv_rms) override {
    k_->rms_norm_backward(d_x.f32(), d_weight.empty() ? nullptr : d_weight.f32(), d_out.f32(),
                          x.f32(), weight.f32(), inv_rms.f32(), x.dim(0), x.dim(1), &scratch_);
    return absl::OkStatus();
  }

  absl::Status DoRope(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset,
                      bool inverse) override {
    k_->rope(x.f32(), cos.f32(), sin.f32(), pos_offset, inverse, x.dim(0), x.dim(1), x.dim(2),
             x.dim(3));
    return absl::OkStatus();
  }

  absl::Status DoAttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                  const Tensor& k, const Tensor& v, const IndexList& kv_map,
                                  float scale) override {
    return k_->attention_forward(out.f32(), lse.f32(), q.f32(), k.f32(), v.f32(), Host(kv_map),
                                 scale, Shape(q, k), &gemm_, &scratch_);
  }

  absl::Status DoAttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                                   const Tensor& d_out, const Tensor& q, const Tensor& k,
                                   const Tensor& v, const Tensor& out, const Tensor& lse,
                                   const IndexList& kv_map, float scale) override {
    return k_->attention_backward(d_q.f32(), d_k.f32(), d_v.f32(), d_out.f32(), q.f32(), k.f32(),
                                  v.f32(), out.f32(), lse.f32(), Host(kv_map), scale, Shape(q, k),
                                  &gemm_, &scratch_);
  }

  absl::Status DoSwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) override {
    k_->swiglu_forward(out.f32(), gate.f32(), up.f32(), out.numel());
    return absl::OkStatus();
  }

  absl::Status DoSwigluBackward(const Tensor& d_gate, const Tensor& d_up, const Tensor& d_out,
                                const Tensor& gate, const Tensor& up) override {
    k_->swiglu_backward(d_gate.f32(), d_up.f32(), d_out.f32(), gate.f32(), up.f32(), gate.numel());
    return absl::OkStatus();
  }

  absl::Status DoCrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                              const Tensor& targets, const Tensor& weights) override {
    return k_->cross_entropy(nll.f32(), d_logits.empty() ? nullptr : d_logits.f32(), logits.f32(),
                             targets.i32(), weights.f32(), logits.dim(0), logits.dim(1));
  }

  absl::Status DoAddBias(const Tensor& y, const Tensor& bias) override {
    k_->add_bias(y.f32(), bias.f32(), y.dim(0), bias.dim(0));
    return absl::OkStatus();
  }

  absl::Status DoColumnSum(const Tensor& d_bias, const Tensor& d_y) override {
    k_->column_sum(d_bias.f32(), d_y.f32(), d_y.dim(0), d_bias.dim(0));
    return absl::OkStatus();
  }

  absl::Status DoAbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) override {
    k_->abs_prod_row_sum(out.data<double>(), w.f32(), g.f32(), w.dim(0), Cols(w));
    return absl::OkStatus();
  }

  absl::Status DoAbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) override {
    k_->abs_prod_col_sum(out.data<double>(), w.f32(), g.f32(), w.dim(0), Cols(w));
    return absl::OkStatus();
  }

  absl::Status DoGatherRows(const Tensor& out, const Tensor& in, const IndexList& rows) override {
    k_->gather_rows(out.raw(), in.raw(), Host(rows), Cols(in), DTypeSize(in.dtype()));
    return absl::OkStatus();
  }

  absl::Status DoGatherCols(const Tensor& out, const Tensor& in, const IndexList& cols) override {
    k_->gather_cols(out.raw(), in.raw(), Host(cols), in.dim(0), in.dim(1), DTypeSize(in.dtype()));
    return absl::OkStatus();
  }

  absl::Status DoZeroRows(const Tensor& t, const IndexList& rows) override {
    k_->zero_rows(t.raw(), Host(rows), Cols(t), DTypeSize(t.dtype()));
    return absl::OkStatus();
  }

  absl::Status DoZeroCols(const Tensor& t, const IndexList& cols) override {
    k_->zero_cols(t.raw(), Host(cols), t.dim(0), t.dim(1), DTypeSize(t.dtype()));
    return absl::OkStatus();
  }

 private:
  static cpu::AttentionShape Shape(const Tensor& q, const Tensor& k) {
    return {q.dim(0), q.dim(1), k.dim(1), q.dim(2), k.dim(2), q.dim(3)};
  }
  // Row length of a rank-1 (one column) or rank-2 tensor.
  static int64_t Cols(const Tensor& t) { return t.rank() == 1 ? 1 : t.dim(1); }

  const cpu::KernelTable* k_;  // this backend's kernel copy, chosen once (kernels.h)
  OneDnnGemm gemm_;
  Scratch scratch_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> NewCpuBackend(const std::string& isa) {
  absl::StatusOr<const cpu::KernelTable*> kernels = cpu::SelectKernels(isa);
  if (!kernels.ok()) return kernels.status();
  return std::unique_ptr<Backend>(std::make_unique<CpuBackend>(*kernels));
}

}  // namespace gisp
