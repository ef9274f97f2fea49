// The device all-reduce (device_all_reduce.h). On a CPU backend, or in a build without CUDA,
// every rank gets the same Unavailable answer (the pruner then sums Gbar through host memory).
// On GPUs the NCCL sums are checked against a double-precision host sum of every rank's input,
// with the f32 summation bound of docs/numerics.md ("Data-parallel pruning", NCCL), and every
// rank must get the same bits (the Communicator contract the pruner relies on).
#include "gisp/backend/device_all_reduce.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "gisp/backend/backend.h"
#include "gisp/comm/communicator.h"
#include "gisp/comm/thread_communicator.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

// Buffer shapes reduced in this order by every rank: a single element, one that is not a multiple
// of any vector width, a matrix, and 4 MiB (NCCL splits large buffers into chunks and channels).
const std::vector<Shape> kShapes = {Shape{1}, Shape{1000003}, Shape{96, 130}, Shape{1 << 20}};

// Rank `rank`'s input for buffer `b`: values of mixed sign and magnitude, so the order of the
// additions matters at the f32 level and the check is not trivially exact.
std::vector<float> Input(int rank, size_t b, int64_t n) {
  std::mt19937 rng(static_cast<uint32_t>(1000 * rank + b + 1));
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-8, 8);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = std::ldexp(mantissa(rng), exponent(rng));
  return v;
}

// Runs fn(rank communicator) on one thread per rank and waits for all.
void OnRanks(int size, const std::function<void(Communicator&)>& fn) {
  auto comms = testing::MakeThreadCommunicators(size);
  std::vector<std::thread> threads;
  for (auto& c : comms) threads.emplace_back([&fn, c] { fn(*c); });
  for (auto& t : threads) t.join();
}

TEST(DeviceAllReduceTest, CpuBackendIsUnavailableOnEveryRank) {
  for (int size : {1, 2}) {
    std::vector<absl::Status> got(static_cast<size_t>(size));
    OnRanks(size, [&](Communicator& comm) {
      std::unique_ptr<Backend> backend = CreateReferenceBackend();
      auto reducer = CreateDeviceAllReduce(backend.get(), comm);
      got[static_cast<size_t>(comm.rank())] = reducer.status();
    });
    for (const absl::Status& s : got) {
      EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
      EXPECT_EQ(s, got[0]) << size << " ranks must get the same answer";
    }
  }
}

// What a rank of the GPU test saw: its outputs per buffer.
struct RankResult {
  absl::Status status;
  std::vector<std::vector<float>> outputs;
  std::string name;
};

// Each rank on its own GPU (cuda:rank), as NCCL requires.
RankResult ReduceOnGpu(Communicator& comm) {
  RankResult r;
  r.status = [&]() -> absl::Status {
    auto backend = CreateCudaBackend(comm.rank());
    if (!backend.ok()) {
      // Still take part in the set-up's agreement, so the other ranks fail instead of waiting.
      std::unique_ptr<Backend> cpu = CreateReferenceBackend();
      CreateDeviceAllReduce(cpu.get(), comm).IgnoreError();
      return backend.status();
    }
    auto reducer = CreateDeviceAllReduce(backend->get(), comm);
    if (!reducer.ok()) return reducer.status();
    r.name = (*reducer)->name();
    std::vector<Tensor> device;
    for (size_t b = 0; b < kShapes.size(); ++b) {
      auto host = Tensor::Host(kShapes[b]);
      if (!host.ok()) return host.status();
      const std::vector<float> in = Input(comm.rank(), b, host->numel());
      std::copy(in.begin(), in.end(), host->f32());
      auto d = (*backend)->Allocate(kShapes[b]);
      if (!d.ok()) return d.status();
      absl::Status s = (*backend)->Upload(*d, *host);
      if (!s.ok()) return s;
      device.push_back(*d);
    }
    for (const Tensor& d : device) {
      absl::Status s = (*reducer)->AllReduceSum(d);
      if (!s.ok()) return s;
    }
    absl::Status s = (*backend)->Synchronize();
    if (!s.ok()) return s;
    for (const Tensor& d : device) {
      auto host = Tensor::Host(d.shape());
      if (!host.ok()) return host.status();
      s = (*backend)->Download(*host, d);
      if (!s.ok()) return s;
      r.outputs.emplace_back(host->f32(), host->f32() + host->numel());
    }
    reducer->reset();  // before the backend whose stream it uses
    return absl::OkStatus();
  }();
  return r;
}

// The reduced buffers against the double sum of every rank's input: an f32 sum of n terms in
// any order is within (n - 1) * 2^-24 * sum |x_i| of the exact sum (docs/numerics.md); the bound
// below uses n, so that one rank (a plain copy) is held to half an ulp too.
void ExpectSums(const std::vector<RankResult>& ranks) {
  const int n = static_cast<int>(ranks.size());
  for (size_t b = 0; b < kShapes.size(); ++b) {
    std::vector<std::vector<float>> inputs;
    for (int r = 0; r < n; ++r) inputs.push_back(Input(r, b, ranks[0].outputs[b].size()));
    int64_t bad = 0;
    for (size_t i = 0; i < ranks[0].outputs[b].size(); ++i) {
      double sum = 0, magnitude = 0;
      for (int r = 0; r < n; ++r) {
        sum += inputs[r][i];
        magnitude += std::fabs(inputs[r][i]);
      }
      const double tol = n * std::ldexp(1.0, -24) * magnitude;
      if (std::fabs(ranks[0].outputs[b][i] - sum) > tol && ++bad <= 5) {
        ADD_FAILURE() << "buffer " << b << " element " << i << ": " << ranks[0].outputs[b][i]
                      << " vs double sum " << sum << " (tolerance " << tol << ")";
      }
    }
    EXPECT_EQ(bad, 0) << "buffer " << b << " on " << n << " ranks";
    for (int r = 1; r < n; ++r) {
      EXPECT_TRUE(ranks[r].outputs[b] == ranks[0].outputs[b])
          << "rank " << r << " got other bits than rank 0 for buffer " << b;
    }
  }
}

// libnccl.so.2 is loaded at run time; a machine without it gets Unavailable (the host path).
bool NcclMissing(const absl::Status& s) {
  return absl::IsUnavailable(s) && absl::StrContains(s.message(), "NCCL could not be loaded");
}

TEST(DeviceAllReduceTest, OneRankOnGpu) {
  auto probe = CreateCudaBackend(0);
  if (!probe.ok()) GTEST_SKIP() << "no CUDA backend here: " << probe.status();
  probe->reset();
  auto comm = SingleProcessCommunicator();
  std::vector<RankResult> ranks = {ReduceOnGpu(*comm)};
  if (NcclMissing(ranks[0].status)) {
    GTEST_SKIP() << "a GPU but no NCCL library here: " << ranks[0].status;
  }
  ASSERT_TRUE(ranks[0].status.ok()) << ranks[0].status;
  std::cout << "device all-reduce: " << ranks[0].name << "\n";
  ExpectSums(ranks);
}

TEST(DeviceAllReduceTest, RanksOnSeparateGpus) {
  // NCCL refuses two ranks of one communicator on the same GPU ("Duplicate GPU detected"), so
  // this needs one GPU per rank: up to 4 of them.
  int gpus = 0;
  absl::Status why;
  for (; gpus < 4; ++gpus) {
    auto b = CreateCudaBackend(gpus);
    if (!b.ok()) {
      why = b.status();
      break;
    }
  }
  if (gpus < 2) {
    GTEST_SKIP() << "NCCL needs one GPU per rank and this machine offers " << gpus << " usable ("
                 << why << ")";
  }
  std::vector<RankResult> ranks(static_cast<size_t>(gpus));
  OnRanks(gpus,
          [&](Communicator& comm) { ranks[static_cast<size_t>(comm.rank())] = ReduceOnGpu(comm); });
  if (NcclMissing(ranks[0].status)) {
    GTEST_SKIP() << "GPUs but no NCCL library here: " << ranks[0].status;
  }
  for (int r = 0; r < gpus; ++r) {
    ASSERT_TRUE(ranks[r].status.ok()) << "rank " << r << ": " << ranks[r].status;
  }
  std::cout << "device all-reduce: " << ranks[0].name << "\n";
  ExpectSums(ranks);
}

}  // namespace
}  // namespace gisp
