#include "gisp/backend/profiling_backend.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/strings/str_format.h"

namespace gisp {
namespace {

class Profiler final : public ProfilingBackend {
 public:
  explicit Profiler(Backend* inner) : inner_(inner) {}

  Device device() const override { return inner_->device(); }
  std::string name() const override { return inner_->name() + " [profiled]"; }
  const std::map<std::string, VerbProfile>& profile() const override { return profile_; }
  void Reset() override { profile_.clear(); }

  std::string Report() const override {
    std::vector<std::pair<std::string, VerbProfile>> rows(profile_.begin(), profile_.end());
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    double total = 0;
    for (const auto& r : rows) total += r.second.seconds;
    std::string out = absl::StrFormat("%-20s %8s %10s %7s %10s\n", "verb", "calls", "seconds",
                                      "share", "GFLOP/s");
    for (const auto& [verb, p] : rows) {
      out += absl::StrFormat(
          "%-20s %8d %10.4f %6.1f%% %10s\n", verb, p.calls, p.seconds,
          total > 0 ? 100.0 * p.seconds / total : 0.0,
          p.flops > 0 ? absl::StrFormat("%.1f", p.flops / p.seconds / 1e9) : std::string("-"));
    }
    out += absl::StrFormat("%-20s %8s %10.4f\n", "total", "", total);
    return out;
  }

  bool SupportsComputeDType(DType dtype) const override {
    return inner_->SupportsComputeDType(dtype);
  }
  bool SupportsStorageDType(DType dtype) const override {
    return inner_->SupportsStorageDType(dtype);
  }

 protected:
  absl::StatusOr<Tensor> DoAllocate(Shape shape, DType dtype) override {
    auto t0 = Now();
    auto r = inner_->Allocate(std::move(shape), dtype);
    Account("Allocate", t0, 0);
    return r;
  }
  absl::StatusOr<MemoryInfo> DoQueryMemory() override { return inner_->QueryMemory(); }
  absl::Status DoUpload(const Tensor& out, const Tensor& src) override {
    return Time("Upload", 0, [&] { return inner_->Upload(out, src); });
  }
  absl::Status DoDownload(const Tensor& out, const Tensor& src) override {
    return Time("Download", 0, [&] { return inner_->Download(out, src); });
  }
  absl::Status DoCopy(const Tensor& out, const Tensor& src) override {
    return Time("Copy", 0, [&] { return inner_->Copy(out, src); });
  }
  absl::Status DoFill(const Tensor& out, float value) override {
    return Time("Fill", 0, [&] { return inner_->Fill(out, value); });
  }
  absl::Status DoSynchronize() override { return inner_->Synchronize(); }
  absl::Status DoGemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b, bool trans_b,
                    float alpha, float beta) override {
    const double k = trans_a ? a.dim(-2) : a.dim(-1);
    const double flops = 2.0 * static_cast<double>(out.numel()) * k;
    return Time("Gemm", flops,
                [&] { return inner_->Gemm(out, a, trans_a, b, trans_b, alpha, beta); });
  }
  absl::Status DoAdd(const Tensor& out, const Tensor& a, const Tensor& b) override {
    return Time("Add", 0, [&] { return inner_->Add(out, a, b); });
  }
  absl::Status DoAxpy(const Tensor& y, float alpha, const Tensor& x) override {
    return Time("Axpy", 0, [&] { return inner_->Axpy(y, alpha, x); });
  }
  absl::Status DoEmbeddingForward(const Tensor& out, const Tensor& table,
                                const Tensor& ids) override {
    return Time("EmbeddingForward", 0, [&] { return inner_->EmbeddingForward(out, table, ids); });
  }
  absl::Status DoEmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                 const Tensor& ids) override {
    return Time("EmbeddingBackward", 0,
                [&] { return inner_->EmbeddingBackward(d_table, d_out, ids); });
  }
  absl::Status DoRmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                              const Tensor& weight, float eps) override {
    return Time("RmsNormForward", 0,
                [&] { return inner_->RmsNormForward(out, inv_rms, x, weight, eps); });
  }
  absl::Status DoRmsNormBackward(const Tensor& d_x, const Tensor& d_weight, const Tensor& d_out,
                               const Tensor& x, const Tensor& weight,
                               const Tensor& inv_rms) override {
    return Time("RmsNormBackward", 0,
                [&] { return inner_->RmsNormBackward(d_x, d_weight, d_out, x, weight, inv_rms); });
  }
  absl::Status DoRope(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset,
                    bool inverse) override {
    return Time("Rope", 0, [&] { return inner_->Rope(x, cos, sin, pos_offset, inverse); });
  }
  absl::Status DoAttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                const Tensor& k, const Tensor& v, const IndexList& kv_map,
                                float scale) override {
    // Two [Tq, Tk, Dh] GEMMs per (batch, head), full (not causal-halved) as the kernel runs.
    const double flops = 4.0 * q.dim(0) * q.dim(2) * q.dim(1) * k.dim(1) * q.dim(3);
    return Time("AttentionForward", flops,
                [&] { return inner_->AttentionForward(out, lse, q, k, v, kv_map, scale); });
  }
  absl::Status DoAttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                                 const Tensor& d_out, const Tensor& q, const Tensor& k,
                                 const Tensor& v, const Tensor& out, const Tensor& lse,
                                 const IndexList& kv_map, float scale) override {
    const double flops = 10.0 * q.dim(0) * q.dim(2) * q.dim(1) * k.dim(1) * q.dim(3);
    return Time("AttentionBackward", flops, [&] {
      return inner_->AttentionBackward(d_q, d_k, d_v, d_out, q, k, v, out, lse, kv_map, scale);
    });
  }
  absl::Status DoSwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) override {
    return Time("SwigluForward", 0, [&] { return inner_->SwigluForward(out, gate, up); });
  }
  absl::Status DoSwigluBackward(const Tensor& d_gate, const Tensor& d_up, const Tensor& d_out,
                              const Tensor& gate, const Tensor& up) override {
    return Time("SwigluBackward", 0,
                [&] { return inner_->SwigluBackward(d_gate, d_up, d_out, gate, up); });
  }
  absl::Status DoCrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                            const Tensor& targets, const Tensor& weights) override {
    return Time("CrossEntropy", 0,
                [&] { return inner_->CrossEntropy(nll, d_logits, logits, targets, weights); });
  }
  absl::Status DoAddBias(const Tensor& y, const Tensor& bias) override {
    return Time("AddBias", 0, [&] { return inner_->AddBias(y, bias); });
  }
  absl::Status DoColumnSum(const Tensor& d_bias, const Tensor& d_y) override {
    return Time("ColumnSum", 0, [&] { return inner_->ColumnSum(d_bias, d_y); });
  }
  absl::Status DoAbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) override {
    return Time("AbsProdRowSum", 0, [&] { return inner_->AbsProdRowSum(out, w, g); });
  }
  absl::Status DoAbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) override {
    return Time("AbsProdColSum", 0, [&] { return inner_->AbsProdColSum(out, w, g); });
  }
  absl::Status DoGatherRows(const Tensor& out, const Tensor& in,
                          const IndexList& rows) override {
    return Time("GatherRows", 0, [&] { return inner_->GatherRows(out, in, rows); });
  }
  absl::Status DoGatherCols(const Tensor& out, const Tensor& in,
                          const IndexList& cols) override {
    return Time("GatherCols", 0, [&] { return inner_->GatherCols(out, in, cols); });
  }
  absl::Status DoZeroRows(const Tensor& t, const IndexList& rows) override {
    return Time("ZeroRows", 0, [&] { return inner_->ZeroRows(t, rows); });
  }
  absl::Status DoZeroCols(const Tensor& t, const IndexList& cols) override {
    return Time("ZeroCols", 0, [&] { return inner_->ZeroCols(t, cols); });
  }

 private:
  using Clock = std::chrono::steady_clock;
  static Clock::time_point Now() { return Clock::now(); }

  void Account(const char* verb, Clock::time_point t0, double flops) {
    VerbProfile& p = profile_[verb];
    ++p.calls;
    p.seconds += std::chrono::duration<double>(Now() - t0).count();
    p.flops += flops;
  }

  template <typename Fn>
  absl::Status Time(const char* verb, double flops, Fn fn) {
    const auto t0 = Now();
    absl::Status s = fn();
    if (s.ok()) s = inner_->Synchronize();
    Account(verb, t0, flops);
    return s;
  }

  Backend* inner_;
  std::map<std::string, VerbProfile> profile_;
};

}  // namespace

std::unique_ptr<ProfilingBackend> NewProfilingBackend(Backend* inner) {
  return std::make_unique<Profiler>(inner);
}

}  // namespace gisp
