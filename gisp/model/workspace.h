// Workspace: named, reusable device buffers for activations and temporaries. A calibration pass
// asks for the same tensors batch after batch; allocating them once keeps page faults and
// zero-fills out of the hot loop. A buffer grows when a larger shape is asked for and is never
// shrunk until Clear(). Contents are unspecified on Get.
#ifndef GISP_MODEL_WORKSPACE_H_
#define GISP_MODEL_WORKSPACE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "gisp/backend/backend.h"

namespace gisp {

class Workspace {
 public:
  // `float_dtype` is the element type of float buffers: f32, or f64 when a model runs on the
  // reference backend as a double-precision oracle.
  explicit Workspace(Backend* backend, DType float_dtype = DType::kF32)
      : backend_(backend), float_dtype_(float_dtype) {}

  // A float tensor of `shape` backed by the buffer named `name`.
  absl::StatusOr<Tensor> Get(const std::string& name, const Shape& shape) {
    return Get(name, shape, float_dtype_);
  }
  absl::StatusOr<Tensor> Get(const std::string& name, const Shape& shape, DType dtype);
  DType float_dtype() const { return float_dtype_; }
  // Same, zero-filled.
  absl::StatusOr<Tensor> GetZeroed(const std::string& name, const Shape& shape);

  void Clear() { buffers_.clear(); }
  size_t bytes() const;

 private:
  Backend* backend_;
  DType float_dtype_;
  std::map<std::string, Tensor> buffers_;  // flat tensors of the largest size seen
};

}  // namespace gisp

#endif  // GISP_MODEL_WORKSPACE_H_
