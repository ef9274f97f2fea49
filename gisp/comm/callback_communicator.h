// A Communicator whose collectives are plain functions with a user pointer: what the C ABI's
// gisp_communicator receives from a host (c_api/gisp_mpi.h wraps an MPI_Comm this way, a test
// can wrap threads). Keeping the adapter here, below the C ABI, lets C++ programs that link MPI
// themselves (tools/mpi) use the very functions gisp_mpi.h defines.
#ifndef GISP_COMM_CALLBACK_COMMUNICATOR_H_
#define GISP_COMM_CALLBACK_COMMUNICATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "gisp/comm/communicator.h"

namespace gisp {

// Each function returns 0 on success; any other value fails the call with a status naming the
// operation and the value (an MPI error code, for gisp_mpi.h). `count` and `bytes` may exceed
// INT_MAX: the callee splits what its transport cannot send at once.
struct CommunicatorCallbacks {
  int (*all_reduce_f32)(float* data, size_t count, void* user_data) = nullptr;
  int (*all_reduce_f64)(double* data, size_t count, void* user_data) = nullptr;
  int (*broadcast)(void* data, size_t bytes, int32_t root, void* user_data) = nullptr;
  void* user_data = nullptr;
};

class CallbackCommunicator final : public Communicator {
 public:
  // InvalidArgument unless 0 <= rank < size, or when size > 1 and one of all_reduce_f32,
  // all_reduce_f64 and broadcast is missing (each named). With size 1 no callback is needed
  // or called.
  static absl::StatusOr<std::shared_ptr<CallbackCommunicator>> Create(
      int rank, int size, const CommunicatorCallbacks& callbacks);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  absl::Status AllReduceSum(absl::Span<float> data) override;
  absl::Status AllReduceSum(absl::Span<double> data) override;
  absl::Status Broadcast(void* data, size_t bytes, int root) override;
  absl::Status Barrier() override;

 private:
  CallbackCommunicator(int rank, int size, const CommunicatorCallbacks& callbacks)
      : rank_(rank), size_(size), callbacks_(callbacks) {}

  int rank_;
  int size_;
  CommunicatorCallbacks callbacks_;
};

}  // namespace gisp

#endif  // GISP_COMM_CALLBACK_COMMUNICATOR_H_
