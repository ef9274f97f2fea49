// The NCCL device all-reduce (device_all_reduce.h) for the CUDA backend: one NCCL communicator
// per rank, bootstrapped through the host communicator, reducing f32 buffers in place on the
// backend's stream.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/backend/cuda/cuda_backend.h"
#include "gisp/backend/cuda/nccl_ops.h"
#include "gisp/backend/device_all_reduce.h"
#include "gisp/base/status.h"
#include "gisp/comm/agreement.h"

namespace gisp {
namespace cuda_internal {
namespace {

absl::Status NcclCheck(int result, absl::string_view what) {
  if (result == 0) return absl::OkStatus();
  gpu::GetLastError();  // NCCL may leave a CUDA error behind; do not let a later check see it
  return absl::InternalError(
      absl::StrCat(what, ": NCCL error ", result, " (", gpu::NcclErrorString(result), ")"));
}

class NcclAllReduce final : public DeviceAllReduce {
 public:
  NcclAllReduce(CudaBackend* backend, gpu::NcclComm comm, int rank, int size, int version)
      : backend_(backend), comm_(comm), rank_(rank), size_(size), version_(version) {}

  ~NcclAllReduce() override {
    ScopedDevice on(backend_->device_index());
    // Queued reductions finish before the communicator goes; errors are of no use here.
    gpu::StreamSynchronize(backend_->stream());
    gpu::NcclCommDestroy(comm_);
  }

  std::string name() const override {
    return absl::StrFormat("NCCL %d.%d.%d, %d ranks", version_ / 10000, (version_ / 100) % 100,
                           version_ % 100, size_);
  }

  absl::Status AllReduceSum(const Tensor& t) override {
    const std::string what =
        absl::StrCat("NCCL all-reduce of ", t.DebugString(), " on rank ", rank_, " of ", size_);
    if (t.dtype() != DType::kF32) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": only f32 buffers are reduced"));
    }
    if (t.device() != backend_->device()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the tensor is not on ", backend_->name()));
    }
    if (t.numel() == 0) return absl::OkStatus();  // every rank skips it: same counts everywhere
    GISP_RETURN_IF_ERROR(CudaCheck(gpu::SetDevice(backend_->device_index()), what, {&t}));
    return NcclCheck(gpu::NcclAllReduceSumF32(t.f32(), static_cast<size_t>(t.numel()), comm_,
                                              backend_->stream()),
                     what);
  }

 private:
  CudaBackend* backend_;
  gpu::NcclComm comm_;
  int rank_, size_, version_;
};

}  // namespace
}  // namespace cuda_internal

absl::StatusOr<std::unique_ptr<DeviceAllReduce>> CreateDeviceAllReduce(Backend* backend,
                                                                       Communicator& comm) {
  using cuda_internal::CudaBackend;
  using cuda_internal::NcclCheck;
  auto* cuda = dynamic_cast<CudaBackend*>(backend);
  // Every local step before ncclCommInitRank is agreed on before the next collective, so a rank
  // that cannot go on stops the others with its message. ncclCommInitRank itself waits for every
  // rank inside NCCL's bootstrap: a rank that fails there can leave the others waiting (as a rank
  // that dies inside an MPI collective does; the launcher's time limit ends the job).
  // Unavailable, on every rank, when any rank's backend is not CUDA or cannot load
  // libnccl.so.2: the host path still works there.
  absl::Status usable = absl::OkStatus();
  if (cuda == nullptr) {
    usable = absl::UnavailableError(absl::StrCat(
        "no device all-reduce for the ", backend == nullptr ? "missing" : backend->name(),
        " backend (NCCL needs the CUDA backend); Gbar is summed through host memory"));
  } else if (const char* load_error = gpu::NcclLoadError(); load_error != nullptr) {
    usable = absl::UnavailableError(absl::StrCat("NCCL could not be loaded (", load_error,
                                                 "); Gbar is summed through host memory"));
  }
  GISP_RETURN_IF_ERROR(Agree(comm, usable));
  int version = 0;
  absl::Status local = NcclCheck(gpu::NcclVersion(&version), "ncclGetVersion");
  if (local.ok()) {
    // ncclCommInitRank binds the rank to the calling thread's current device.
    local = cuda_internal::CudaCheck(gpu::SetDevice(cuda->device_index()), "ncclCommInitRank", {});
  }
  gpu::NcclUniqueId id;
  if (local.ok() && comm.rank() == 0) {
    local = NcclCheck(gpu::NcclGetUniqueId(&id), "ncclGetUniqueId");
  }
  GISP_RETURN_IF_ERROR(Agree(comm, local));
  GISP_RETURN_IF_ERROR(
      Annotate(comm.Broadcast(id.bytes, sizeof(id.bytes), 0), "broadcasting NCCL's unique id"));
  gpu::NcclComm nccl = nullptr;
  local = NcclCheck(gpu::NcclCommInitRank(&nccl, comm.size(), id, comm.rank()),
                    absl::StrCat("ncclCommInitRank on ", cuda->name()));
  const absl::Status agreed = Agree(comm, local);
  if (!agreed.ok()) {
    if (local.ok() && nccl != nullptr) gpu::NcclCommDestroy(nccl);
    return agreed;
  }
  return std::unique_ptr<DeviceAllReduce>(
      new cuda_internal::NcclAllReduce(cuda, nccl, comm.rank(), comm.size(), version));
}

}  // namespace gisp
