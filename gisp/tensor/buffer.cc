#include "gisp/tensor/buffer.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gisp {

std::string Device::ToString() const {
  return kind == Kind::kCpu ? std::string("cpu") : absl::StrCat("cuda:", index);
}

Buffer::Buffer(Device device, void* data, size_t bytes, Deleter deleter)
    : device_(device), data_(data), bytes_(bytes), deleter_(std::move(deleter)) {}

Buffer::~Buffer() {
  if (deleter_) deleter_(data_);
}

absl::StatusOr<std::shared_ptr<Buffer>> Buffer::AllocateHost(size_t bytes, bool zero) {
  constexpr size_t kAlign = 64;
  size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  if (rounded == 0) rounded = kAlign;
  void* p = std::aligned_alloc(kAlign, rounded);
  if (p == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes, " bytes of host memory"));
  }
  if (zero) std::memset(p, 0, rounded);
  return std::make_shared<Buffer>(Device::Cpu(), p, bytes, [](void* q) { std::free(q); });
}

std::shared_ptr<Buffer> Buffer::WrapHost(const void* data, size_t bytes,
                                         std::shared_ptr<const void> owner) {
  return std::make_shared<Buffer>(Device::Cpu(), const_cast<void*>(data), bytes,
                                  [owner](void*) mutable { owner.reset(); });
}

}  // namespace gisp
