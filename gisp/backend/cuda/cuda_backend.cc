// The CUDA backend's creation (CreateCudaBackend), destruction and device checks. The class and
// the layout of its files are described in cuda_backend.h.
#include "gisp/backend/cuda/cuda_backend.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/backend/cuda/attention.h"
#include "gisp/base/status.h"

namespace gisp {
namespace cuda_internal {
namespace {

constexpr size_t kBlasWorkspaceBytes = size_t{32} << 20;  // cuBLAS's recommendation for Hopper

// The largest gridDim.y / gridDim.z: the attention kernels put heads and batch there.
constexpr int64_t kMaxGridYZ = 65535;
constexpr int64_t kMaxInt = 0x7fffffff;

}  // namespace

ScopedDevice::ScopedDevice(int device) {
  restore_ = gpu::GetDevice(&previous_) == 0 && previous_ != device;
  gpu::SetDevice(device);
}

ScopedDevice::~ScopedDevice() {
  if (restore_) gpu::SetDevice(previous_);
  gpu::GetLastError();
}

StreamOwner::~StreamOwner() {
  if (stream == nullptr) return;
  ScopedDevice on(device);
  gpu::StreamSynchronize(stream);  // lets pending frees complete; errors are of no use here
  gpu::StreamDestroy(stream);
}

void FreeOnStream(const std::shared_ptr<StreamOwner>& owner, void* ptr) noexcept {
  if (ptr == nullptr) return;
  ScopedDevice on(owner->device);
  gpu::FreeAsync(ptr, owner->stream);
}

CudaBackend::~CudaBackend() {
  if (owner_ == nullptr || owner_->stream == nullptr) return;  // Create failed early
  ScopedDevice on(owner_->device);
  if (blas_ != nullptr) gpu::BlasDestroy(blas_);
  if (blas_workspace_ != nullptr) gpu::FreeAsync(blas_workspace_, stream());
  if (scratch_ != nullptr) gpu::FreeAsync(scratch_, stream());
  gpu::StreamSynchronize(stream());
}

absl::StatusOr<std::unique_ptr<Backend>> CudaBackend::Create(int index) {
  int count = 0;
  const int e = gpu::GetDeviceCount(&count);
  if (e != 0) {
    gpu::GetLastError();
    return absl::UnavailableError(absl::StrCat(
        "no usable CUDA device: cudaGetDeviceCount failed with ", gpu::ErrorName(e), " (",
        gpu::ErrorString(e), "); gisp's CUDA build needs an NVIDIA GPU and a driver for CUDA 13"));
  }
  if (index < 0 || index >= count) {
    return absl::UnavailableError(
        absl::StrCat("CUDA device ", index, " does not exist: found ", count, " CUDA device(s)"));
  }
  std::unique_ptr<CudaBackend> backend(new CudaBackend());
  backend->owner_ = std::make_shared<StreamOwner>();
  backend->owner_->device = index;
  const absl::string_view verb = "CreateCudaBackend";
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::SetDevice(index), verb, {}));
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::GetDeviceInfo(index, &backend->info_), verb, {}));
  const gpu::DeviceInfo& info = backend->info_;
  if (info.cc_major < 8) {
    return absl::UnavailableError(
        absl::StrCat("CUDA device ", index, " (", info.name, ") has compute capability ",
                     info.cc_major, ".", info.cc_minor, "; gisp's CUDA kernels need 8.0 or newer"));
  }
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::KeepPoolMemory(index), verb, {}));
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::StreamCreateNonBlocking(&backend->owner_->stream), verb, {}));
  const int alloc =
      gpu::MallocAsync(&backend->blas_workspace_, kBlasWorkspaceBytes, backend->stream());
  if (alloc != 0) {
    backend->blas_workspace_ = nullptr;
    return gpu::IsOutOfMemory(alloc) ? OutOfMemory(verb, kBlasWorkspaceBytes, {})
                                     : CudaCheck(alloc, verb, {});
  }
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::StreamSynchronize(backend->stream()), verb, {}));
  GISP_RETURN_IF_ERROR(BlasCheck(gpu::BlasCreate(backend->stream(), backend->blas_workspace_,
                                                 kBlasWorkspaceBytes, &backend->blas_),
                                 verb, {}));
  int runtime = 0, blas = 0;
  gpu::RuntimeVersion(&runtime);
  gpu::BlasVersion(backend->blas_, &blas);
  backend->name_ =
      absl::StrFormat("cuda:%d (%s, sm_%d%d, %.0f GiB, CUDA runtime %d.%d, cuBLAS %d)", index,
                      info.name, info.cc_major, info.cc_minor, info.total_memory / 1073741824.0,
                      runtime / 1000, (runtime % 1000) / 10, blas);
  return std::unique_ptr<Backend>(std::move(backend));
}

absl::Status CudaBackend::CheckAttention(absl::string_view verb, const Tensor& q, const Tensor& k,
                                         bool backward) const {
  const int64_t b = q.dim(0), tq = q.dim(1), hq = q.dim(2), dh = q.dim(3);
  const int64_t tk = k.dim(1), kv = k.dim(2);
  if (dh > gpu::kMaxAttentionHeadDim) {
    return absl::UnimplementedError(absl::StrCat(verb, ": head size ", dh,
                                                 " exceeds the CUDA kernels' maximum of ",
                                                 gpu::kMaxAttentionHeadDim));
  }
  // The grids are (query or key tiles, heads, batch); the kernels index tokens with int. Refused
  // here with the shapes rather than as a bare cudaErrorInvalidValue from the launcher.
  if (hq > kMaxGridYZ || kv > kMaxGridYZ || b > kMaxGridYZ || tq > kMaxInt || tk > kMaxInt) {
    return absl::UnimplementedError(absl::StrCat(verb, " on q ", q.DebugString(), ", k ",
                                                 k.DebugString(),
                                                 ": the CUDA kernels take at most ", kMaxGridYZ,
                                                 " heads and batch rows and ", kMaxInt, " tokens"));
  }
  const int64_t smem = gpu::AttentionSharedBytes(dh, backward);
  if (smem > info_.max_shared_per_block_optin) {
    return absl::UnimplementedError(absl::StrCat(
        verb, " on q ", q.DebugString(), ", k ", k.DebugString(), ": the kernel for head size ", dh,
        " needs ", smem, " bytes of shared memory per block, ", info_.name, " offers ",
        info_.max_shared_per_block_optin));
  }
  return absl::OkStatus();
}

}  // namespace cuda_internal

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int index) {
  return cuda_internal::CudaBackend::Create(index);
}

}  // namespace gisp
