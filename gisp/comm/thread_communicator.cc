#include "gisp/comm/thread_communicator.h"

#include <condition_variable>
#include <cstring>
#include <mutex>

namespace gisp {
namespace testing {
namespace {

// What the ranks share: a reusable barrier and one published pointer per rank.
struct Group {
  explicit Group(int n) : size(n), slots(static_cast<size_t>(n), nullptr) {}

  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    const int64_t generation = generation_;
    if (++arrived == size) {
      arrived = 0;
      ++generation_;
      cv.notify_all();
    } else {
      cv.wait(lock, [&] { return generation_ != generation; });
    }
  }

  const int size;
  std::vector<void*> slots;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  int64_t generation_ = 0;
};

class ThreadRank final : public Communicator {
 public:
  ThreadRank(std::shared_ptr<Group> group, int rank) : group_(std::move(group)), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_->size; }
  absl::Status AllReduceSum(absl::Span<float> data) override { return Sum(data); }
  absl::Status AllReduceSum(absl::Span<double> data) override { return Sum(data); }

  absl::Status Broadcast(void* data, size_t bytes, int root) override {
    group_->slots[static_cast<size_t>(rank_)] = data;
    group_->Wait();
    if (rank_ != root) std::memcpy(data, group_->slots[static_cast<size_t>(root)], bytes);
    group_->Wait();  // the root's buffer stays untouched until every rank has copied it
    return absl::OkStatus();
  }

  absl::Status Barrier() override {
    group_->Wait();
    return absl::OkStatus();
  }

 private:
  template <typename T>
  absl::Status Sum(absl::Span<T> data) {
    group_->slots[static_cast<size_t>(rank_)] = data.data();
    group_->Wait();
    std::vector<T> sum(data.size(), T(0));
    for (int q = 0; q < group_->size; ++q) {
      const T* in = static_cast<const T*>(group_->slots[static_cast<size_t>(q)]);
      for (size_t i = 0; i < data.size(); ++i) sum[i] += in[i];
    }
    group_->Wait();  // every rank has read every buffer before any is overwritten
    std::copy(sum.begin(), sum.end(), data.begin());
    return absl::OkStatus();
  }

  std::shared_ptr<Group> group_;
  int rank_;
};

}  // namespace

std::vector<std::shared_ptr<Communicator>> MakeThreadCommunicators(int size) {
  auto group = std::make_shared<Group>(size);
  std::vector<std::shared_ptr<Communicator>> ranks;
  for (int r = 0; r < size; ++r) ranks.push_back(std::make_shared<ThreadRank>(group, r));
  return ranks;
}

}  // namespace testing
}  // namespace gisp
