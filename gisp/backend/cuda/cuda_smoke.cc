// A self-contained check of the CUDA backend against the reference backend, for a GPU machine
// that has no Bazel: build with `bazel build --config=cuda //gisp/backend/cuda:cuda_smoke`, copy
// the binary over and run it. It also makes `bazel build` link the kernel archive, so a missing
// device symbol fails the build here rather than in some test.
//
// Exit codes: 0 all checks passed, 1 a check failed, 2 no usable CUDA device.
// Tolerances: the GPU sums in f32 in a different order than the double-accumulating reference;
// 1e-4 relative to the largest reference magnitude covers that at these sizes (the bf16 GEMM
// rounds its inputs to 8 bits of mantissa, hence 2e-2).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gisp/backend/backend.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

int g_failures = 0;

Tensor HostRandom(const Shape& shape, std::mt19937* rng, float scale = 1.0f) {
  Tensor t = Tensor::Host(shape).value();
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = dist(*rng);
  return t;
}

Tensor ToDevice(Backend& be, const Tensor& host, DType dtype = DType::kF32) {
  Tensor t = be.Allocate(host.shape(), dtype).value();
  const absl::Status s = be.Upload(t, host);
  if (!s.ok()) std::printf("upload failed: %s\n", s.ToString().c_str());
  return t;
}

Tensor ToHost(Backend& be, const Tensor& dev) {
  Tensor t = Tensor::Host(dev.shape(), DType::kF32).value();
  const absl::Status s = be.Download(t, dev);
  if (!s.ok()) std::printf("download failed: %s\n", s.ToString().c_str());
  return t;
}

void Expect(const std::string& what, const Tensor& got, const Tensor& want, double tol) {
  double max_ref = 0, max_err = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(want.f32()[i])));
    const double e = std::fabs(static_cast<double>(got.f32()[i]) - want.f32()[i]);
    max_err = std::max(max_err, std::isnan(e) ? INFINITY : e);
  }
  const bool ok = max_err <= tol * std::max(1.0, max_ref);
  if (!ok) ++g_failures;
  std::printf("%-4s %-48s max err %.3g (ref max %.3g)\n", ok ? "ok" : "FAIL", what.c_str(), max_err,
              max_ref);
}

void ExpectOk(const std::string& what, const absl::Status& s) {
  if (s.ok()) return;
  ++g_failures;
  std::printf("FAIL %s: %s\n", what.c_str(), s.ToString().c_str());
}

bool SameBits(const Tensor& a, const Tensor& b) {
  return std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

struct AttentionCase {
  int64_t b, tq, tk, hq, kv, dh;
};

void CheckAttention(Backend& gpu, Backend& ref, const AttentionCase& c, std::mt19937* rng) {
  const std::string name = "attention b" + std::to_string(c.b) + " tq" + std::to_string(c.tq) +
                           " tk" + std::to_string(c.tk) + " hq" + std::to_string(c.hq) + " kv" +
                           std::to_string(c.kv) + " dh" + std::to_string(c.dh);
  const Tensor q = HostRandom({c.b, c.tq, c.hq, c.dh}, rng);
  const Tensor k = HostRandom({c.b, c.tk, c.kv, c.dh}, rng);
  const Tensor v = HostRandom({c.b, c.tk, c.kv, c.dh}, rng);
  const Tensor d_out = HostRandom({c.b, c.tq, c.hq, c.dh}, rng);
  std::vector<int32_t> map(static_cast<size_t>(c.hq));
  for (int64_t h = 0; h < c.hq; ++h) map[h] = static_cast<int32_t>(h * c.kv / c.hq);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.dh));

  // Reference on the host.
  const IndexList ref_map = ref.UploadIndices(map, c.kv).value();
  Tensor r_out = Tensor::Host(q.shape()).value(), r_lse = Tensor::Host({c.b, c.hq, c.tq}).value();
  ExpectOk(name, ref.AttentionForward(r_out, r_lse, q, k, v, ref_map, scale));
  Tensor r_dq = Tensor::Host(q.shape()).value(), r_dk = Tensor::Host(k.shape()).value(),
         r_dv = Tensor::Host(k.shape()).value();
  ExpectOk(name,
           ref.AttentionBackward(r_dq, r_dk, r_dv, d_out, q, k, v, r_out, r_lse, ref_map, scale));

  // GPU.
  const IndexList g_map = gpu.UploadIndices(map, c.kv).value();
  const Tensor gq = ToDevice(gpu, q), gk = ToDevice(gpu, k), gv = ToDevice(gpu, v),
               gdo = ToDevice(gpu, d_out);
  Tensor g_out = gpu.Allocate(q.shape()).value(), g_lse = gpu.Allocate(r_lse.shape()).value();
  ExpectOk(name, gpu.AttentionForward(g_out, g_lse, gq, gk, gv, g_map, scale));
  Tensor g_dq = gpu.Allocate(q.shape()).value(), g_dk = gpu.Allocate(k.shape()).value(),
         g_dv = gpu.Allocate(k.shape()).value();
  ExpectOk(name,
           gpu.AttentionBackward(g_dq, g_dk, g_dv, gdo, gq, gk, gv, g_out, g_lse, g_map, scale));
  const Tensor h_dk = ToHost(gpu, g_dk);
  Expect(name + " out", ToHost(gpu, g_out), r_out, 1e-4);
  Expect(name + " lse", ToHost(gpu, g_lse), r_lse, 1e-4);
  Expect(name + " d_q", ToHost(gpu, g_dq), r_dq, 1e-4);
  Expect(name + " d_k", h_dk, r_dk, 1e-4);
  Expect(name + " d_v", ToHost(gpu, g_dv), r_dv, 1e-4);
  // Determinism: a second backward gives the same bits.
  ExpectOk(name,
           gpu.AttentionBackward(g_dq, g_dk, g_dv, gdo, gq, gk, gv, g_out, g_lse, g_map, scale));
  if (!SameBits(ToHost(gpu, g_dk), h_dk)) {
    ++g_failures;
    std::printf("FAIL %s: d_k differs between two runs\n", name.c_str());
  }
}

void CheckGemm(Backend& gpu, Backend& ref, bool trans_a, bool trans_b, DType b_dtype,
               std::mt19937* rng) {
  const int64_t batch = 2, m = 37, n = 45, k = 70;
  const Tensor a = HostRandom(trans_a ? Shape{batch, k, m} : Shape{batch, m, k}, rng);
  const Tensor b = HostRandom(trans_b ? Shape{batch, n, k} : Shape{batch, k, n}, rng);
  const Tensor c0 = HostRandom({batch, m, n}, rng);
  Tensor want = Tensor::Host({batch, m, n}).value();
  std::memcpy(want.raw(), c0.raw(), c0.bytes());
  ExpectOk("gemm ref", ref.Gemm(want, a, trans_a, b, trans_b, 0.5f, 1.0f));
  Tensor got = ToDevice(gpu, c0);
  ExpectOk("gemm", gpu.Gemm(got, ToDevice(gpu, a), trans_a, ToDevice(gpu, b, b_dtype), trans_b,
                            0.5f, 1.0f));
  Expect(std::string("gemm beta=1 ta") + (trans_a ? "1" : "0") + " tb" + (trans_b ? "1" : "0") +
             " b " + std::string(DTypeName(b_dtype)),
         ToHost(gpu, got), want, b_dtype == DType::kF32 ? 1e-4 : 2e-2);
}

void CheckRmsNormAndLoss(Backend& gpu, Backend& ref, std::mt19937* rng) {
  const int64_t n = 33, d = 300, vocab = 1000;
  const Tensor x = HostRandom({n, d}, rng), w = HostRandom({d}, rng), dy = HostRandom({n, d}, rng);
  Tensor r_out = Tensor::Host({n, d}).value(), r_inv = Tensor::Host({n}).value();
  Tensor r_dx = Tensor::Host({n, d}).value(), r_dw = Tensor::Host({d}).value();
  ExpectOk("rmsnorm ref", ref.RmsNormForward(r_out, r_inv, x, w, 1e-5f));
  ExpectOk("rmsnorm ref", ref.RmsNormBackward(r_dx, r_dw, dy, x, w, r_inv));
  const Tensor gx = ToDevice(gpu, x), gw = ToDevice(gpu, w), gdy = ToDevice(gpu, dy);
  Tensor g_out = gpu.Allocate({n, d}).value(), g_inv = gpu.Allocate({n}).value();
  Tensor g_dx = gpu.AllocateZeroed({n, d}).value(), g_dw = gpu.AllocateZeroed({d}).value();
  ExpectOk("rmsnorm", gpu.RmsNormForward(g_out, g_inv, gx, gw, 1e-5f));
  ExpectOk("rmsnorm", gpu.RmsNormBackward(g_dx, g_dw, gdy, gx, gw, g_inv));
  Expect("rmsnorm out", ToHost(gpu, g_out), r_out, 1e-5);
  Expect("rmsnorm d_x", ToHost(gpu, g_dx), r_dx, 1e-4);
  Expect("rmsnorm d_weight", ToHost(gpu, g_dw), r_dw, 1e-4);

  const Tensor logits = HostRandom({n, vocab}, rng, 5.0f), weights = HostRandom({n}, rng);
  Tensor targets = Tensor::Host({n}, DType::kI32).value();
  for (int64_t i = 0; i < n; ++i) targets.i32()[i] = i % 7 == 3 ? -1 : (i * 131) % vocab;
  Tensor r_nll = Tensor::Host({n}).value(), r_dl = Tensor::Host({n, vocab}).value();
  ExpectOk("xent ref", ref.CrossEntropy(r_nll, r_dl, logits, targets, weights));
  Tensor g_logits = ToDevice(gpu, logits), g_nll = gpu.Allocate({n}).value();
  const Tensor g_targets = ToDevice(gpu, targets, DType::kI32);
  ExpectOk("xent", gpu.CrossEntropy(g_nll, g_logits, g_logits, g_targets,
                                    ToDevice(gpu, weights)));  // in place
  Expect("cross entropy nll", ToHost(gpu, g_nll), r_nll, 1e-5);
  Expect("cross entropy d_logits (in place)", ToHost(gpu, g_logits), r_dl, 1e-5);
}

// Cases the kernel tests do not reach: beta = 0 over uninitialized (NaN) output memory, an empty
// contraction with a general beta, and a cross-entropy row as wide as Llama 3's vocabulary.
void CheckEdgeCases(Backend& gpu, Backend& ref, std::mt19937* rng) {
  const int64_t m = 19, n = 23, k = 31;
  const Tensor a = HostRandom({m, k}, rng), b = HostRandom({k, n}, rng);
  Tensor nan_host = Tensor::Host({m, n}).value();
  for (int64_t i = 0; i < nan_host.numel(); ++i) nan_host.f32()[i] = NAN;
  Tensor want = Tensor::Host({m, n}).value();
  ExpectOk("gemm ref", ref.Gemm(want, a, false, b, false, 1.0f, 0.0f));
  Tensor got = ToDevice(gpu, nan_host);
  ExpectOk("gemm beta=0",
           gpu.Gemm(got, ToDevice(gpu, a), false, ToDevice(gpu, b), false, 1.0f, 0.0f));
  Expect("gemm beta=0 over NaN memory", ToHost(gpu, got), want, 1e-4);

  const Tensor c0 = HostRandom({m, n}, rng);
  Tensor scaled = Tensor::Host({m, n}).value();
  for (int64_t i = 0; i < c0.numel(); ++i) scaled.f32()[i] = 0.3f * c0.f32()[i];
  Tensor c = ToDevice(gpu, c0);
  ExpectOk("gemm k=0", gpu.Gemm(c, gpu.Allocate({m, 0}).value(), false,
                                gpu.Allocate({0, n}).value(), false, 1.0f, 0.3f));
  Expect("gemm k=0 beta=0.3", ToHost(gpu, c), scaled, 0.0);

  const int64_t rows = 3, vocab = 128256;
  const Tensor logits = HostRandom({rows, vocab}, rng, 8.0f), weights = HostRandom({rows}, rng);
  Tensor targets = Tensor::Host({rows}, DType::kI32).value();
  targets.i32()[0] = 0;
  targets.i32()[1] = -1;
  targets.i32()[2] = static_cast<int32_t>(vocab - 1);
  Tensor r_nll = Tensor::Host({rows}).value(), r_dl = Tensor::Host({rows, vocab}).value();
  ExpectOk("xent ref", ref.CrossEntropy(r_nll, r_dl, logits, targets, weights));
  Tensor g_logits = ToDevice(gpu, logits), g_nll = gpu.Allocate({rows}).value();
  ExpectOk("xent", gpu.CrossEntropy(g_nll, g_logits, g_logits, ToDevice(gpu, targets, DType::kI32),
                                    ToDevice(gpu, weights)));
  Expect("cross entropy nll (V = 128256)", ToHost(gpu, g_nll), r_nll, 1e-5);
  Expect("cross entropy d_logits (V = 128256, in place)", ToHost(gpu, g_logits), r_dl, 1e-5);
}

int Main() {
  absl::StatusOr<std::unique_ptr<Backend>> created = CreateCudaBackend(0);
  if (!created.ok()) {
    std::printf("CUDA backend unavailable: %s\n", created.status().ToString().c_str());
    return 2;
  }
  Backend& gpu = **created;
  std::unique_ptr<Backend> ref = CreateReferenceBackend();
  std::printf("%s\n", gpu.name().c_str());
  std::mt19937 rng(1234);
  const AttentionCase cases[] = {
      {1, 5, 5, 2, 1, 3},     {2, 70, 70, 4, 2, 64},    {1, 33, 100, 4, 4, 80},
      {1, 65, 65, 3, 1, 96},  {1, 130, 130, 2, 1, 128}, {1, 1, 37, 2, 1, 128},
      {1, 40, 40, 2, 2, 256}, {1, 64, 64, 4, 2, 128},   {1, 64, 64, 2, 3, 32},
  };
  for (const AttentionCase& c : cases) CheckAttention(gpu, *ref, c, &rng);
  for (int t = 0; t < 4; ++t) CheckGemm(gpu, *ref, t & 1, t & 2, DType::kF32, &rng);
  CheckGemm(gpu, *ref, false, true, DType::kBF16, &rng);
  CheckGemm(gpu, *ref, false, false, DType::kF16, &rng);
  CheckRmsNormAndLoss(gpu, *ref, &rng);
  CheckEdgeCases(gpu, *ref, &rng);
  ExpectOk("synchronize", gpu.Synchronize());
  std::printf("%s: %d failure(s)\n", g_failures == 0 ? "PASSED" : "FAILED", g_failures);
  return g_failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace gisp

int main() { return gisp::Main(); }
