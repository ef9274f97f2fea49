// The CUDA backend's memory hooks: allocation from the stream-ordered pool, the scratch buffer,
// host <-> device transfers (converting on the device), copies, fill and synchronization.
#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gisp/backend/cuda/convert.h"
#include "gisp/backend/cuda/cuda_backend.h"
#include "gisp/backend/cuda/elementwise.h"
#include "gisp/base/status.h"

namespace gisp {
namespace cuda_internal {
namespace {

constexpr size_t kTransferChunkBytes = size_t{64} << 20;  // staging size of converting transfers
constexpr size_t kScratchGranule = size_t{1} << 20;

}  // namespace

int CudaBackend::AllocateOnStream(void** ptr, size_t bytes) {
  int e = gpu::MallocAsync(ptr, bytes, stream());
  if (!gpu::IsOutOfMemory(e)) return e;
  gpu::GetLastError();
  gpu::StreamSynchronize(stream());
  gpu::TrimPool(owner_->device);
  return gpu::MallocAsync(ptr, bytes, stream());
}

absl::StatusOr<void*> CudaBackend::Scratch(size_t bytes, absl::string_view verb,
                                           TensorList tensors) {
  if (bytes <= scratch_bytes_) return scratch_;
  size_t want = std::max(bytes, scratch_bytes_ + scratch_bytes_ / 2);
  want = (want + kScratchGranule - 1) / kScratchGranule * kScratchGranule;
  if (scratch_ != nullptr) {
    // Stream-ordered: work already queued that reads the old buffer still sees it.
    GISP_RETURN_IF_ERROR(CudaCheck(gpu::FreeAsync(scratch_, stream()), verb, tensors));
    scratch_ = nullptr;
    scratch_bytes_ = 0;
  }
  void* p = nullptr;
  int e = gpu::MallocAsync(&p, want, stream());
  if (gpu::IsOutOfMemory(e)) {  // the growth margin may be what does not fit
    gpu::GetLastError();
    want = bytes;
    e = AllocateOnStream(&p, want);
  }
  if (gpu::IsOutOfMemory(e)) return OutOfMemory(absl::StrCat(verb, " (scratch)"), want, tensors);
  GISP_RETURN_IF_ERROR(CudaCheck(e, verb, tensors));
  scratch_ = p;
  scratch_bytes_ = want;
  return scratch_;
}

absl::StatusOr<Tensor> CudaBackend::DoAllocate(Shape shape, DType dtype) {
  const size_t bytes = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);
  GISP_RETURN_IF_ERROR(Activate("Allocate"));
  void* p = nullptr;
  if (bytes > 0) {
    const int e = AllocateOnStream(&p, bytes);
    if (gpu::IsOutOfMemory(e)) {
      return OutOfMemory(absl::StrCat("Allocate ", DTypeName(dtype), ShapeToString(shape)), bytes,
                         {});
    }
    GISP_RETURN_IF_ERROR(
        CudaCheck(e, absl::StrCat("Allocate ", DTypeName(dtype), ShapeToString(shape)), {}));
  }
  std::shared_ptr<StreamOwner> owner = owner_;
  auto buffer = std::make_shared<Buffer>(device(), p, bytes,
                                         [owner](void* ptr) { FreeOnStream(owner, ptr); });
  return Tensor(std::move(buffer), 0, std::move(shape), dtype);
}

absl::StatusOr<MemoryInfo> CudaBackend::DoQueryMemory() {
  GISP_RETURN_IF_ERROR(Activate("QueryMemory"));
  size_t free_bytes = 0, total_bytes = 0, idle_bytes = 0;
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::MemGetInfo(&free_bytes, &total_bytes), "QueryMemory", {}));
  // The pool keeps freed blocks (KeepPoolMemory); they are free for our allocations.
  GISP_RETURN_IF_ERROR(
      CudaCheck(gpu::PoolIdleBytes(owner_->device, &idle_bytes), "QueryMemory", {}));
  MemoryInfo info;
  info.total_bytes = static_cast<int64_t>(total_bytes);
  info.free_bytes = static_cast<int64_t>(std::min(total_bytes, free_bytes + idle_bytes));
  return info;
}

absl::Status CudaBackend::DoUpload(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Activate("Upload"));
  const int64_t n = src.numel();
  if (n == 0) return absl::OkStatus();  // nothing to copy (and the pointers may be null)
  if (src.dtype() == out.dtype()) {
    GISP_RETURN_IF_ERROR(CudaCheck(
        gpu::MemcpyAsync(out.raw(), src.raw(), src.bytes(), gpu::CopyKind::kHostToDevice, stream()),
        "Upload", {&out, &src}));
  } else {
    // Raw chunks go to scratch and are converted on the device: a bf16 checkpoint crosses the
    // bus at half the bytes of f32, and the host does no per-element work.
    const size_t in_size = DTypeSize(src.dtype());
    const size_t out_size = DTypeSize(out.dtype());
    const int64_t chunk = static_cast<int64_t>(std::max<size_t>(1, kTransferChunkBytes / in_size));
    void* staging = nullptr;
    GISP_ASSIGN_OR_RETURN(staging, Scratch(static_cast<size_t>(std::min(n, chunk)) * in_size,
                                           "Upload", {&out, &src}));
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t count = std::min(chunk, n - begin);
      GISP_RETURN_IF_ERROR(
          CudaCheck(gpu::MemcpyAsync(staging, Bytes(src) + begin * in_size, count * in_size,
                                     gpu::CopyKind::kHostToDevice, stream()),
                    "Upload", {&out, &src}));
      GISP_RETURN_IF_ERROR(
          CudaCheck(gpu::Convert(Bytes(out) + begin * out_size, ToElem(out.dtype()), staging,
                                 ToElem(src.dtype()), count, stream()),
                    "Upload", {&out, &src}));
    }
  }
  // The caller may free or reuse `src` once we return; copies from page-locked memory are truly
  // asynchronous, so wait for them (this also reports any error of the transfer here).
  return CudaCheck(gpu::StreamSynchronize(stream()), "Upload", {&out, &src});
}

absl::Status CudaBackend::DoDownload(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Activate("Download"));
  const int64_t n = src.numel();
  if (n == 0) return absl::OkStatus();
  if (src.dtype() == out.dtype()) {
    GISP_RETURN_IF_ERROR(CudaCheck(
        gpu::MemcpyAsync(out.raw(), src.raw(), src.bytes(), gpu::CopyKind::kDeviceToHost, stream()),
        "Download", {&out, &src}));
  } else {
    const size_t in_size = DTypeSize(src.dtype());
    const size_t out_size = DTypeSize(out.dtype());
    const int64_t chunk = static_cast<int64_t>(std::max<size_t>(1, kTransferChunkBytes / out_size));
    void* staging = nullptr;
    GISP_ASSIGN_OR_RETURN(staging, Scratch(static_cast<size_t>(std::min(n, chunk)) * out_size,
                                           "Download", {&out, &src}));
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t count = std::min(chunk, n - begin);
      GISP_RETURN_IF_ERROR(
          CudaCheck(gpu::Convert(staging, ToElem(out.dtype()), Bytes(src) + begin * in_size,
                                 ToElem(src.dtype()), count, stream()),
                    "Download", {&out, &src}));
      GISP_RETURN_IF_ERROR(
          CudaCheck(gpu::MemcpyAsync(Bytes(out) + begin * out_size, staging, count * out_size,
                                     gpu::CopyKind::kDeviceToHost, stream()),
                    "Download", {&out, &src}));
    }
  }
  // A copy into pageable memory may return before the data has landed (and one into pinned
  // memory always does): the contract is that it is on the host when we return.
  return CudaCheck(gpu::StreamSynchronize(stream()), "Download", {&out, &src});
}

absl::Status CudaBackend::DoCopy(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Activate("Copy"));
  if (src.numel() == 0) return absl::OkStatus();
  if (src.dtype() == out.dtype()) {
    if (out.raw() == src.raw()) return absl::OkStatus();
    return CudaCheck(gpu::MemcpyAsync(out.raw(), src.raw(), src.bytes(),
                                      gpu::CopyKind::kDeviceToDevice, stream()),
                     "Copy", {&out, &src});
  }
  return CudaCheck(gpu::Convert(out.raw(), ToElem(out.dtype()), src.raw(), ToElem(src.dtype()),
                                src.numel(), stream()),
                   "Copy", {&out, &src});
}

absl::Status CudaBackend::DoFill(const Tensor& out, float value) {
  GISP_RETURN_IF_ERROR(Activate("Fill"));
  if (out.numel() == 0) return absl::OkStatus();
  // The element's bit pattern, so one kernel fills every dtype (the base class only asks for
  // f32, but zeroing, the common case, is a memset for all of them).
  uint64_t pattern = 0;
  switch (out.dtype()) {
    case DType::kF32: {
      uint32_t bits;
      std::memcpy(&bits, &value, sizeof(bits));
      pattern = bits;
      break;
    }
    case DType::kF64: {
      const double wide = value;
      std::memcpy(&pattern, &wide, sizeof(pattern));
      break;
    }
    case DType::kBF16:
      pattern = F32ToBF16(value);
      break;
    case DType::kF16:
      pattern = F32ToF16(value);
      break;
    case DType::kI32:
      pattern = static_cast<uint32_t>(static_cast<int32_t>(value));
      break;
  }
  if (pattern == 0) {
    return CudaCheck(gpu::MemsetAsync(out.raw(), 0, out.bytes(), stream()), "Fill", {&out});
  }
  return CudaCheck(gpu::FillPattern(out.raw(), pattern, static_cast<int>(DTypeSize(out.dtype())),
                                    out.numel(), stream()),
                   "Fill", {&out});
}

absl::Status CudaBackend::DoSynchronize() {
  GISP_RETURN_IF_ERROR(Activate("Synchronize"));
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::StreamSynchronize(stream()), "Synchronize", {}));
  return CudaCheck(gpu::GetLastError(), "Synchronize", {});
}

}  // namespace cuda_internal
}  // namespace gisp
