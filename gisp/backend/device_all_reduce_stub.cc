// Built without CUDA (the default): there is no device to reduce on, so every rank answers
// Unavailable. Still collective, as the contract says, so the ranks agree on the answer.
#include "absl/strings/str_cat.h"
#include "gisp/backend/device_all_reduce.h"
#include "gisp/comm/agreement.h"

namespace gisp {

absl::StatusOr<std::unique_ptr<DeviceAllReduce>> CreateDeviceAllReduce(Backend* backend,
                                                                       Communicator& comm) {
  const absl::Status local = absl::UnavailableError(absl::StrCat(
      "no device all-reduce for the ", backend == nullptr ? "missing" : backend->name(),
      " backend: this gisp build has no NCCL (build with --config=cuda); Gbar is summed through "
      "host memory"));
  return Agree(comm, local);
}

}  // namespace gisp
