#include "gisp/tensor/tensor.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gisp {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

Tensor::Tensor(std::shared_ptr<Buffer> buffer, size_t offset_bytes, Shape shape, DType dtype)
    : buffer_(std::move(buffer)),
      offset_bytes_(offset_bytes),
      shape_(std::move(shape)),
      dtype_(dtype) {}

namespace {

absl::StatusOr<Tensor> NewHost(Shape shape, DType dtype, bool zero) {
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("negative dimension in shape ", ShapeToString(shape)));
    }
  }
  size_t bytes = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);
  auto buffer = Buffer::AllocateHost(bytes, zero);
  if (!buffer.ok()) return buffer.status();
  return Tensor(std::move(buffer).value(), 0, std::move(shape), dtype);
}

}  // namespace

absl::StatusOr<Tensor> Tensor::Host(Shape shape, DType dtype) {
  return NewHost(std::move(shape), dtype, /*zero=*/true);
}

absl::StatusOr<Tensor> Tensor::HostUninitialized(Shape shape, DType dtype) {
  return NewHost(std::move(shape), dtype, /*zero=*/false);
}

absl::StatusOr<Tensor> Tensor::Reshape(Shape shape) const {
  if (NumElements(shape) != numel()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot reshape ", ShapeToString(shape_), " to ", ShapeToString(shape)));
  }
  return Tensor(buffer_, offset_bytes_, std::move(shape), dtype_);
}

Tensor Tensor::Slice(int64_t begin, int64_t end) const {
  Shape s = shape_;
  int64_t row = numel() / (shape_.empty() || shape_[0] == 0 ? 1 : shape_[0]);
  s[0] = end - begin;
  return Tensor(buffer_, offset_bytes_ + static_cast<size_t>(begin * row) * DTypeSize(dtype_),
                std::move(s), dtype_);
}

Tensor Tensor::View(int64_t offset_elements, Shape shape) const {
  return Tensor(buffer_, offset_bytes_ + static_cast<size_t>(offset_elements) * DTypeSize(dtype_),
                std::move(shape), dtype_);
}

std::string Tensor::DebugString() const {
  return absl::StrCat(DTypeName(dtype_), ShapeToString(shape_), " on ", device().ToString());
}

}  // namespace gisp
