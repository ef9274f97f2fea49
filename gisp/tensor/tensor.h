// Tensor: a contiguous, row-major view into a Buffer (buffer + byte offset + shape + dtype).
// Copying a Tensor copies the view, not the data; two views may share a buffer.
#ifndef GISP_TENSOR_TENSOR_H_
#define GISP_TENSOR_TENSOR_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/base/dtype.h"
#include "gisp/tensor/buffer.h"

namespace gisp {

using Shape = std::vector<int64_t>;

int64_t NumElements(const Shape& shape);
std::string ShapeToString(const Shape& shape);  // "[4, 256, 768]"

class Tensor {
 public:
  Tensor() = default;  // empty: no buffer, numel 0
  Tensor(std::shared_ptr<Buffer> buffer, size_t offset_bytes, Shape shape, DType dtype);

  // Zero-filled host tensor.
  static absl::StatusOr<Tensor> Host(Shape shape, DType dtype = DType::kF32);
  // Host tensor whose contents are unspecified (for buffers that are written before read).
  static absl::StatusOr<Tensor> HostUninitialized(Shape shape, DType dtype = DType::kF32);

  bool empty() const { return buffer_ == nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // dim(-1) is the last dimension.
  int64_t dim(int i) const { return shape_[i < 0 ? shape_.size() + i : i]; }
  int64_t numel() const { return NumElements(shape_); }
  size_t bytes() const { return static_cast<size_t>(numel()) * DTypeSize(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return buffer_ ? buffer_->device() : Device::Cpu(); }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }
  size_t offset_bytes() const { return offset_bytes_; }

  void* raw() const { return static_cast<char*>(buffer_->data()) + offset_bytes_; }
  template <typename T>
  T* data() const {
    return reinterpret_cast<T*>(raw());
  }
  float* f32() const { return data<float>(); }
  int32_t* i32() const { return data<int32_t>(); }

  // Same data, new shape with the same number of elements.
  absl::StatusOr<Tensor> Reshape(Shape shape) const;
  // Rows [begin, end) along the first dimension.
  Tensor Slice(int64_t begin, int64_t end) const;
  // A contiguous sub-view of `shape` starting `offset_elements` into this tensor.
  Tensor View(int64_t offset_elements, Shape shape) const;

  std::string DebugString() const;  // "f32[4, 256] on cpu"

 private:
  std::shared_ptr<Buffer> buffer_;
  size_t offset_bytes_ = 0;
  Shape shape_;
  DType dtype_ = DType::kF32;
};

}  // namespace gisp

#endif  // GISP_TENSOR_TENSOR_H_
