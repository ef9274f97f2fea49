#include "gisp/model/workspace.h"

#include "gisp/base/status.h"

namespace gisp {

absl::StatusOr<Tensor> Workspace::Get(const std::string& name, const Shape& shape, DType dtype) {
  const int64_t n = NumElements(shape);
  const size_t bytes = static_cast<size_t>(n) * DTypeSize(dtype);
  auto it = buffers_.find(name);
  if (it == buffers_.end() || it->second.bytes() < bytes) {
    // Grow to the request; 1/8 head-room so slowly growing shapes do not reallocate each time.
    const int64_t words = static_cast<int64_t>((bytes + bytes / 8 + 3) / 4);
    GISP_ASSIGN_OR_RETURN(Tensor flat, backend_->Allocate({words}, DType::kF32));
    it = buffers_.insert_or_assign(name, std::move(flat)).first;
  }
  return Tensor(it->second.buffer(), it->second.offset_bytes(), shape, dtype);
}

absl::StatusOr<Tensor> Workspace::GetZeroed(const std::string& name, const Shape& shape) {
  GISP_ASSIGN_OR_RETURN(Tensor t, Get(name, shape));
  if (t.numel() > 0) GISP_RETURN_IF_ERROR(backend_->Fill(t, 0.0f));
  return t;
}

size_t Workspace::bytes() const {
  size_t total = 0;
  for (const auto& [name, t] : buffers_) total += t.bytes();
  return total;
}

}  // namespace gisp
