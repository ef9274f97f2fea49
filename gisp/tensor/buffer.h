// Buffer: a block of memory on one Device, released by the deleter it was made with. Host
// buffers are 64-byte aligned (one cache line, and enough for any vector load). A buffer may
// also view memory someone else owns (a memory-mapped checkpoint); it then keeps that owner
// alive instead of freeing anything.
#ifndef GISP_TENSOR_BUFFER_H_
#define GISP_TENSOR_BUFFER_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "gisp/tensor/device.h"

namespace gisp {

class Buffer {
 public:
  using Deleter = std::function<void(void*)>;

  Buffer(Device device, void* data, size_t bytes, Deleter deleter);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // 64-byte aligned host memory, zero-filled unless `zero` is false (then its contents are
  // unspecified). ResourceExhausted when the allocation fails.
  static absl::StatusOr<std::shared_ptr<Buffer>> AllocateHost(size_t bytes, bool zero = true);
  // A view of host memory kept alive by `owner` (for example a MappedFile); read-only by contract.
  static std::shared_ptr<Buffer> WrapHost(const void* data, size_t bytes,
                                          std::shared_ptr<const void> owner);

  Device device() const { return device_; }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  Device device_;
  void* data_;
  size_t bytes_;
  Deleter deleter_;
};

}  // namespace gisp

#endif  // GISP_TENSOR_BUFFER_H_
