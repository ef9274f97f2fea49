// Device all-reduce: the sum over ranks of gradient buffers that live in device memory, without
// the trip through host memory that Communicator::AllReduceSum needs (docs/scaling.md, "NCCL").
//
// The data-parallel pruner adds up each rank's share of Gbar once per step (gisp/saliency/
// gradient_reduction.h). On the CUDA backend that used to mean, per buffer: wait for the
// stream, download, all-reduce on the host, upload. With NCCL the buffers are summed in place on
// the backend's stream over NVLink or InfiniBand. The seam is this small interface and one
// factory; the NCCL implementation lives in cuda/nccl_all_reduce.cc and exists only under
// --config=cuda, a stub answers Unavailable in the default build, so nothing here makes a
// CPU-only build depend on CUDA.
#ifndef GISP_BACKEND_DEVICE_ALL_REDUCE_H_
#define GISP_BACKEND_DEVICE_ALL_REDUCE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gisp/backend/backend.h"
#include "gisp/comm/communicator.h"
#include "gisp/tensor/tensor.h"

namespace gisp {

class DeviceAllReduce {
 public:
  virtual ~DeviceAllReduce() = default;

  // What reduces, for logs: "NCCL 2.28.9, 2 ranks".
  virtual std::string name() const = 0;

  // In place: `t` (f32, contiguous, on the backend's device; any shape) becomes the
  // element-wise sum of every rank's `t`. Queued on the backend's stream like every backend verb:
  // Backend::Synchronize waits for it and reports deferred errors. Collective: every rank calls
  // it with the same element counts in the same order. Every rank gets the same values (NCCL
  // reduces each element once and copies the result to every rank); which order the ranks'
  // values are added in is NCCL's choice (ring or tree), fixed for a given rank count, topology
  // and NCCL version (docs/numerics.md).
  virtual absl::Status AllReduceSum(const Tensor& t) = 0;
};

// Collective over `comm`: every rank calls it with its own backend, and every rank gets the same
// outcome (gisp/comm/agreement.h):
//  * a device all-reduce over the ranks of `comm` (each rank on its own GPU), bootstrapped
//    through `comm`: rank 0 creates NCCL's unique id and broadcasts it;
//  * Unavailable when some rank's backend is not a CUDA backend, the build has no NCCL (the
//    default build, without --config=cuda) or a rank cannot load libnccl.so.2 (it is loaded at
//    run time). Callers then reduce through host memory;
//  * another error, naming the rank, when NCCL's set-up fails (for example two ranks on one
//    GPU, which NCCL refuses).
// `backend` must outlive the result. A single rank gets a working (trivial) all-reduce.
absl::StatusOr<std::unique_ptr<DeviceAllReduce>> CreateDeviceAllReduce(Backend* backend,
                                                                       Communicator& comm);

}  // namespace gisp

#endif  // GISP_BACKEND_DEVICE_ALL_REDUCE_H_
