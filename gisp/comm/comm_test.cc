#include <algorithm>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gisp/comm/agreement.h"
#include "gisp/comm/callback_communicator.h"
#include "gisp/comm/communicator.h"
#include "gisp/comm/thread_communicator.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

// Runs fn(rank communicator) on one thread per rank and waits for all.
void OnRanks(int size, const std::function<void(Communicator&)>& fn) {
  auto comms = testing::MakeThreadCommunicators(size);
  std::vector<std::thread> threads;
  for (auto& c : comms) threads.emplace_back([&fn, c] { fn(*c); });
  for (auto& t : threads) t.join();
}

TEST(ShareOfTest, ContiguousBlocksCoverEveryBatchOnce) {
  for (int64_t n : {0, 1, 2, 3, 7, 64, 1000}) {
    for (int size : {1, 2, 3, 8}) {
      int64_t next = 0, smallest = n, largest = 0;
      for (int r = 0; r < size; ++r) {
        const BatchRange b = ShareOf(n, r, size);
        EXPECT_EQ(b.begin, next) << n << " batches, rank " << r << " of " << size;
        next = b.end;
        smallest = std::min(smallest, b.size());
        largest = std::max(largest, b.size());
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(largest - smallest, 1) << n << " batches over " << size << " ranks";
    }
  }
  EXPECT_EQ(ShareOf(3, 0, 2).size(), 1);  // floor(3/2): the later rank takes the extra batch
  EXPECT_EQ(ShareOf(3, 1, 2).size(), 2);
}

TEST(SingleProcessTest, CollectivesChangeNothing) {
  auto comm = SingleProcessCommunicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  std::vector<float> f = {1.5f, -2};
  ASSERT_TRUE(comm->AllReduceSum(absl::MakeSpan(f)).ok());
  EXPECT_EQ(f, (std::vector<float>{1.5f, -2}));
  std::vector<double> sums = {3};
  const absl::Status local = absl::NotFoundError("model.safetensors is missing");
  EXPECT_EQ(Agree(*comm, local, {}, absl::MakeSpan(sums)), local);  // unchanged, no prefix
  EXPECT_EQ(sums[0], 3);
}

TEST(ThreadCommunicatorTest, AllReduceGivesEveryRankTheSameSums) {
  std::vector<std::vector<double>> got(3);
  OnRanks(3, [&](Communicator& c) {
    std::vector<float> f = {0.1f * static_cast<float>(c.rank() + 1), 1e8f, 1.0f};
    std::vector<double> d = {static_cast<double>(c.rank()), 0.5};
    ASSERT_TRUE(c.AllReduceSum(absl::MakeSpan(f)).ok());
    ASSERT_TRUE(c.AllReduceSum(absl::MakeSpan(d)).ok());
    got[static_cast<size_t>(c.rank())] = {f[0], f[1], f[2], d[0], d[1]};
    std::string word = c.rank() == 2 ? "root" : "xxxx";
    ASSERT_TRUE(c.Broadcast(word.data(), word.size(), 2).ok());
    EXPECT_EQ(word, "root");
    ASSERT_TRUE(c.Barrier().ok());
  });
  EXPECT_EQ(got[0], got[1]);
  EXPECT_EQ(got[0], got[2]);
  EXPECT_EQ(got[0][3], 3.0);
  EXPECT_EQ(got[0][4], 1.5);
  EXPECT_FLOAT_EQ(static_cast<float>(got[0][0]), 0.6f);
}

TEST(AgreementTest, OkSumsTheContributions) {
  OnRanks(2, [](Communicator& c) {
    std::vector<double> sums = {c.rank() == 0 ? 2.5 : 0.0, c.rank() == 1 ? 4.0 : 0.0};
    const SharedFact fact{"model fingerprint", "abc"};
    EXPECT_TRUE(Agree(c, absl::OkStatus(), {&fact, 1}, absl::MakeSpan(sums)).ok());
    EXPECT_EQ(sums, (std::vector<double>{2.5, 4.0}));
  });
}

TEST(AgreementTest, EveryRankGetsTheLowestFailedRanksError) {
  std::vector<absl::Status> got(3);
  OnRanks(3, [&](Communicator& c) {
    absl::Status local;
    if (c.rank() == 1) local = absl::NotFoundError("calib.txt does not exist");
    if (c.rank() == 2) local = absl::InternalError("later rank");
    got[static_cast<size_t>(c.rank())] = Agree(c, local);
  });
  for (const absl::Status& s : got) {
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(s.message(), "rank 1 of 3: calib.txt does not exist");
  }
}

TEST(AgreementTest, ADifferentFactIsNamedWithItsRank) {
  std::vector<absl::Status> got(3);
  OnRanks(3, [&](Communicator& c) {
    const SharedFact facts[] = {{"model fingerprint", "m"},
                                {"resume record", c.rank() == 2 ? "step 4" : "step 3"}};
    got[static_cast<size_t>(c.rank())] = Agree(c, absl::OkStatus(), facts);
  });
  for (const absl::Status& s : got) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(), "rank 2 of 3 has a different resume record than rank 0");
  }
}

TEST(AgreementTest, LongMessagesAreCut) {
  OnRanks(2, [](Communicator& c) {
    const absl::Status local =
        c.rank() == 0 ? absl::InvalidArgumentError(std::string(10000, 'x')) : absl::OkStatus();
    const absl::Status s = Agree(c, local);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message().size(), std::string("rank 0 of 2: ").size() + 4096);
  });
}

// A host callback that fails, as an MPI error code would come back.
int FailingReduce(double*, size_t, void*) { return 17; }
int NoopReduceF32(float*, size_t, void*) { return 0; }
int NoopBroadcast(void*, size_t, int32_t, void*) { return 0; }

TEST(CallbackCommunicatorTest, ValidatesAndReportsTheCallbacksError) {
  CommunicatorCallbacks cb;
  EXPECT_EQ(CallbackCommunicator::Create(2, 2, cb).status().message(),
            "communicator: rank must be in [0, size) and size >= 1, got rank 2 of 2");
  EXPECT_EQ(CallbackCommunicator::Create(0, 2, cb).status().message(),
            "communicator of 2 ranks has no all-reduce (f32) function");
  EXPECT_TRUE(CallbackCommunicator::Create(0, 1, cb).ok());  // one rank needs no transport
  cb.all_reduce_f32 = &NoopReduceF32;
  cb.all_reduce_f64 = &FailingReduce;
  EXPECT_EQ(CallbackCommunicator::Create(1, 2, cb).status().message(),
            "communicator of 2 ranks has no broadcast function");
  cb.broadcast = &NoopBroadcast;
  auto comm = CallbackCommunicator::Create(1, 2, cb);
  ASSERT_TRUE(comm.ok()) << comm.status();
  double x = 1;
  const absl::Status s = (*comm)->AllReduceSum(absl::MakeSpan(&x, 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "the communicator's all-reduce (f64) failed on rank 1 of 2 (host callback returned "
            "17)");
  EXPECT_EQ((*comm)->Barrier().code(), absl::StatusCode::kUnavailable);  // through the f64 sum
  EXPECT_EQ((*comm)->Broadcast(&x, sizeof(x), 2).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gisp
