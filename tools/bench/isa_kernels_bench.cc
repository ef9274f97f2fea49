// Benchmark: gisp's vector-heavy CPU kernels per kernel ISA (AVX2+FMA vs AVX-512), single thread,
// against the same math written once with Eigen's packet functions (vectorized exp) in this
// binary, which its BUILD rule compiles for one ISA per binary (Eigen picks its packet width at
// compile time). Measures whether Eigen packet math or gisp's hand-written per-ISA copies are the
// faster way to write these kernels. Rounds interleave the variants and keep each one's best,
// so load from other processes hurts all of them alike.
//   bazel run -c opt //tools/bench:isa_kernels_avx512   (and :isa_kernels_avx2)
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gisp/backend/backend.h"

namespace gisp {
namespace {

using Clock = std::chrono::steady_clock;
using Row = Eigen::Map<Eigen::ArrayXf>;
using ConstRow = Eigen::Map<const Eigen::ArrayXf>;

// Shapes of the calibration benchmark (docs/benchmarks.md): B*T = 1024 tokens, F = 2048,
// V = 32000; one 128-token block of logits rows keeps a round short.
constexpr int64_t kTokens = 1024, kFfn = 2048, kRows = 128, kVocab = 32000;

double Seconds(const std::function<void()>& fn) {
  const auto t0 = Clock::now();
  fn();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Softmax cross-entropy with its gradient, one row at a time, in Eigen.
void EigenCrossEntropy(float* nll, float* d, const float* logits, const int32_t* targets, int64_t n,
                       int64_t v) {
  for (int64_t i = 0; i < n; ++i) {
    ConstRow row(logits + i * v, v);
    const float mx = row.maxCoeff();
    const float lse = mx + std::log((row - mx).exp().sum());
    nll[i] = lse - row[targets[i]];
    Row(d + i * v, v) = (row - lse).exp();
    d[i * v + targets[i]] -= 1.0f;
  }
}

void EigenSwiglu(float* out, const float* gate, const float* up, int64_t n) {
  ConstRow g(gate, n), u(up, n);
  Row(out, n) = g / (1.0f + (-g).exp()) * u;
}

int Main() {
  omp_set_num_threads(1);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  const int64_t ns = kTokens * kFfn;
  Tensor gate = Tensor::Host({ns}).value(), up = Tensor::Host({ns}).value();
  Tensor out = Tensor::Host({ns}).value();
  for (int64_t i = 0; i < ns; ++i) {
    gate.f32()[i] = normal(rng);
    up.f32()[i] = normal(rng);
  }
  Tensor logits = Tensor::Host({kRows, kVocab}).value();
  Tensor dl = Tensor::Host({kRows, kVocab}).value();
  for (int64_t i = 0; i < kRows * kVocab; ++i) logits.f32()[i] = normal(rng);
  Tensor targets = Tensor::Host({kRows}, DType::kI32).value();
  Tensor weights = Tensor::Host({kRows}).value(), nll = Tensor::Host({kRows}).value();
  for (int64_t i = 0; i < kRows; ++i) {
    targets.i32()[i] = static_cast<int32_t>(i * 131);
    weights.f32()[i] = 1.0f;
  }

  struct Variant {
    std::string name;
    std::function<void()> swiglu, cross_entropy;
    double best_swiglu = 1e30, best_ce = 1e30;
  };
  std::vector<Variant> variants;
  std::vector<std::unique_ptr<Backend>> keep;
  for (const std::string& isa : AvailableCpuIsas()) {
    keep.push_back(CreateCpuBackendForIsa(isa).value());
    Backend* be = keep.back().get();
    variants.push_back({"gisp " + isa + " kernels",
                        [=, &out, &gate, &up] { (void)be->SwigluForward(out, gate, up); },
                        [=, &nll, &dl, &logits, &targets, &weights] {
                          (void)be->CrossEntropy(nll, dl, logits, targets, weights);
                        }});
  }
#if defined(__AVX512F__)
  const char* eigen_name = "Eigen, avx512 build (16-lane packets)";
#else
  const char* eigen_name = "Eigen, avx2+fma build (8-lane packets)";
#endif
  variants.push_back({eigen_name, [&] { EigenSwiglu(out.f32(), gate.f32(), up.f32(), ns); },
                      [&] {
                        EigenCrossEntropy(nll.f32(), dl.f32(), logits.f32(), targets.i32(), kRows,
                                          kVocab);
                      }});
  for (int round = 0; round < 25; ++round) {
    for (Variant& v : variants) {
      v.best_swiglu = std::min(v.best_swiglu, Seconds(v.swiglu));
      v.best_ce = std::min(v.best_ce, Seconds(v.cross_entropy));
    }
  }
  std::printf("single thread, best of 25 interleaved rounds; ns per element\n");
  std::printf("%-40s %16s %22s\n", "variant", "SwigluForward", "CrossEntropy+grad");
  for (const Variant& v : variants) {
    std::printf("%-40s %16.3f %22.3f\n", v.name.c_str(), 1e9 * v.best_swiglu / ns,
                1e9 * v.best_ce / (kRows * kVocab));
  }
  return 0;
}

}  // namespace
}  // namespace gisp

int main() { return gisp::Main(); }
