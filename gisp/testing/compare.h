// Test helpers: random tensors and error metrics. The metrics are those docs/numerics.md uses:
//  * rel_inf = max|got - want| / max|want|   (logits, loss: scale-aware, no blow-up near 0)
//  * nmse    = sum (got - want)^2 / sum want^2 (gradients: energy of the error)
#ifndef GISP_TESTING_COMPARE_H_
#define GISP_TESTING_COMPARE_H_

#include <cstdint>
#include <random>
#include <string>

#include "gisp/tensor/tensor.h"

namespace gisp {
namespace testing {

struct Diff {
  double max_abs = 0;   // max |got - want|
  double max_want = 0;  // max |want|
  double rel_inf = 0;   // max_abs / max_want (0 when both are all zero)
  double nmse = 0;      // sum (got-want)^2 / sum want^2
  bool finite = true;   // got has no NaN/inf
  std::string ToString() const;
};

// Element-wise comparison of two host tensors of any float dtype with the same element count.
Diff Compare(const Tensor& got, const Tensor& want);

// Host tensor with values uniform in [-scale, scale] (converted to `dtype`).
Tensor RandomTensor(const Shape& shape, std::mt19937* rng, float scale = 1.0f,
                    DType dtype = DType::kF32);
// Host i32 tensor with values uniform in [lo, hi].
Tensor RandomInts(const Shape& shape, std::mt19937* rng, int32_t lo, int32_t hi);
// Deep copy of a host tensor, converted to `dtype`.
Tensor CopyAs(const Tensor& t, DType dtype);

}  // namespace testing
}  // namespace gisp

#endif  // GISP_TESTING_COMPARE_H_
