#include "gisp/comm/callback_communicator.h"

#include "absl/strings/str_cat.h"

namespace gisp {
namespace {

absl::Status Check(int rc, const char* operation, int rank, int size) {
  if (rc == 0) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("the communicator's ", operation, " failed on rank ",
                                             rank, " of ", size, " (host callback returned ", rc,
                                             ")"));
}

}  // namespace

absl::StatusOr<std::shared_ptr<CallbackCommunicator>> CallbackCommunicator::Create(
    int rank, int size, const CommunicatorCallbacks& callbacks) {
  if (size < 1 || rank < 0 || rank >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "communicator: rank must be in [0, size) and size >= 1, got rank ", rank, " of ", size));
  }
  if (size > 1) {
    const char* missing = callbacks.all_reduce_f32 == nullptr   ? "all-reduce (f32)"
                          : callbacks.all_reduce_f64 == nullptr ? "all-reduce (f64)"
                          : callbacks.broadcast == nullptr      ? "broadcast"
                                                                : nullptr;
    if (missing != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("communicator of ", size, " ranks has no ", missing, " function"));
    }
  }
  return std::shared_ptr<CallbackCommunicator>(new CallbackCommunicator(rank, size, callbacks));
}

absl::Status CallbackCommunicator::AllReduceSum(absl::Span<float> data) {
  if (size_ == 1 || data.empty()) return absl::OkStatus();
  return Check(callbacks_.all_reduce_f32(data.data(), data.size(), callbacks_.user_data),
               "all-reduce (f32)", rank_, size_);
}

absl::Status CallbackCommunicator::AllReduceSum(absl::Span<double> data) {
  if (size_ == 1 || data.empty()) return absl::OkStatus();
  return Check(callbacks_.all_reduce_f64(data.data(), data.size(), callbacks_.user_data),
               "all-reduce (f64)", rank_, size_);
}

absl::Status CallbackCommunicator::Broadcast(void* data, size_t bytes, int root) {
  if (root < 0 || root >= size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("broadcast: root must be in [0, ", size_, "), got ", root));
  }
  if (size_ == 1 || bytes == 0) return absl::OkStatus();
  return Check(callbacks_.broadcast(data, bytes, root, callbacks_.user_data), "broadcast", rank_,
               size_);
}

absl::Status CallbackCommunicator::Barrier() {
  // gisp never needs a barrier of its own (every exchange is an all-reduce or a broadcast), so
  // hosts supply no barrier function: an all-reduce of one value synchronizes as well.
  double one = 1;
  return AllReduceSum(absl::MakeSpan(&one, 1));
}

}  // namespace gisp
