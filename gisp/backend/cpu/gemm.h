// oneDNN matmul primitives, created once per geometry and cached: primitive creation costs
// ~0.1 ms, far more than a small GEMM, and a pruning run repeats the same shapes thousands of
// times (compaction changes them only once per step).
#ifndef GISP_BACKEND_CPU_GEMM_H_
#define GISP_BACKEND_CPU_GEMM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace gisp {

class OneDnnGemm {
 public:
  OneDnnGemm();
  ~OneDnnGemm();
  OneDnnGemm(const OneDnnGemm&) = delete;
  OneDnnGemm& operator=(const OneDnnGemm&) = delete;

  // c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] for i < batch; row-major, contiguous.
  // a: [batch, M, K] ([batch, K, M] if trans_a), b: [batch, K, N] ([batch, N, K] if trans_b),
  // c: [batch, M, N].
  absl::Status Run(float* c, const float* a, bool trans_a, const float* b, bool trans_b,
                   int64_t batch, int64_t m, int64_t n, int64_t k, float alpha, float beta);

  // "gemm:jit" etc. for the last geometry, for benchmarks and logs.
  std::string last_implementation() const;
  size_t cached_primitives() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// oneDNN's version string ("2.6.3").
std::string OneDnnVersion();

}  // namespace gisp

#endif  // GISP_BACKEND_CPU_GEMM_H_
