// Signals delivered while oneDNN's GEMM runs must neither corrupt memory nor get lost
// (signal_shield.h says why they could). The stress test interrupts GEMMs thousands of times;
// without the shield it aborts in glibc or returns wrong products on an AVX2 machine.
#include "gisp/backend/cpu/signal_shield.h"

#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gisp/backend/cpu/gemm.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

std::atomic<int> handled{0};
void CountSignal(int) { handled.fetch_add(1, std::memory_order_relaxed); }

// Installs CountSignal for SIGUSR1 the way hosts do (sigaction on the current stack, no
// SA_ONSTACK), and puts the previous action back.
class CountingHandler {
 public:
  CountingHandler() {
    struct sigaction action = {};
    action.sa_handler = &CountSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, &previous_);
    handled = 0;
  }
  ~CountingHandler() { sigaction(SIGUSR1, &previous_, nullptr); }

 private:
  struct sigaction previous_ = {};
};

bool Blocked(int signal) {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, signal) == 1;
}

TEST(SignalShieldTest, DefersSignalsUntilItDrops) {
  CountingHandler handler;
  ASSERT_FALSE(Blocked(SIGUSR1));
  {
    ScopedSignalShield shield;
    EXPECT_TRUE(Blocked(SIGUSR1));
    EXPECT_TRUE(Blocked(SIGTERM));
    EXPECT_TRUE(Blocked(SIGINT));
    EXPECT_FALSE(Blocked(SIGSEGV));  // faults must still reach their handlers at once
    EXPECT_FALSE(Blocked(SIGABRT));
    pthread_kill(pthread_self(), SIGUSR1);
    EXPECT_EQ(handled.load(), 0) << "delivered while the shield was up";
  }
  EXPECT_EQ(handled.load(), 1) << "not delivered when the shield dropped";
  EXPECT_FALSE(Blocked(SIGUSR1));
}

TEST(SignalShieldTest, KeepsTheCallersOwnBlockedSignals) {
  sigset_t usr2, before, after;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, &before);
  { ScopedSignalShield shield; }
  pthread_sigmask(SIG_SETMASK, &before, &after);
  EXPECT_EQ(sigismember(&after, SIGUSR2), 1);
  EXPECT_EQ(sigismember(&after, SIGUSR1), 0);
}

TEST(SignalShieldTest, ShieldsTheOpenMpWorkers) {
  const int saved = omp_get_max_threads();
  // More workers than earlier shields needed: the new ones start unshielded, as workers created
  // by a host's or gisp's own parallel code do.
  constexpr int kTeam = 7;
  omp_set_num_threads(kTeam);
  std::atomic<int> unblocked{0};
#pragma omp parallel num_threads(kTeam)
  {
    if (omp_get_thread_num() != 0 && !Blocked(SIGTERM)) unblocked.fetch_add(1);
  }
  ASSERT_GT(unblocked.load(), 0);
  { ScopedSignalShield shield; }
  std::atomic<int> workers_blocked{0}, workers{0};
#pragma omp parallel num_threads(kTeam)
  {
    if (omp_get_thread_num() != 0) {
      workers.fetch_add(1);
      if (Blocked(SIGTERM)) workers_blocked.fetch_add(1);
    }
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(workers.load(), kTeam - 1);
  EXPECT_EQ(workers_blocked.load(), kTeam - 1);
  EXPECT_FALSE(Blocked(SIGTERM)) << "the calling thread keeps its own mask";
}

// The lm-head GEMMs of a model with vocabulary 3072 and hidden size 192 (logits, the gradient of
// the head weights accumulated with beta = 1, the gradient of the hidden states), single-threaded
// as under the CLI's MPI ranks. A second thread sends SIGUSR1 to this one as fast as it can while
// they run.
struct Shape {
  const char* name;
  int64_t m, n, k;
  bool trans_a, trans_b;
  float beta;
};

class InterruptedGemmTest : public testing::TestWithParam<Shape> {};

TEST_P(InterruptedGemmTest, StaysCorrect) {
  const Shape& g = GetParam();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> a(g.m * g.k), b(g.k * g.n), c0(g.m * g.n);
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  for (float& x : c0) x = u(rng);
  // op(a)[i][p] and op(b)[p][j] in double precision, for a sample of outputs.
  auto reference = [&](int64_t i, int64_t j) {
    double s = g.beta * double(c0[i * g.n + j]);
    for (int64_t p = 0; p < g.k; ++p) {
      const double x = g.trans_a ? a[p * g.m + i] : a[i * g.k + p];
      const double y = g.trans_b ? b[j * g.k + p] : b[p * g.n + j];
      s += x * y;
    }
    return s;
  };
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  OneDnnGemm gemm;
  CountingHandler handler;
  std::atomic<bool> stop{false};
  const pthread_t target = pthread_self();
  std::thread sender([&] {
    while (!stop.load()) {
      pthread_kill(target, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  });
  int bad = 0, runs = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < end && bad == 0) {
    std::vector<float> c = c0;
    std::vector<float> spare(4096 + runs % 977);  // churn the heap around oneDNN's buffers
    const absl::Status s = gemm.Run(c.data(), a.data(), g.trans_a, b.data(), g.trans_b, 1, g.m, g.n,
                                    g.k, 1.0f, g.beta);
    if (!s.ok()) {
      ADD_FAILURE() << s;
      break;
    }
    for (int64_t q = 0; q < 64; ++q) {
      const int64_t i = (q * 37 + runs) % g.m, j = (q * 101 + runs * 7) % g.n;
      // |sum| <= k + 1 <= 513: float accumulation stays well inside 1e-3 (numerics.md section 1).
      if (std::fabs(c[i * g.n + j] - reference(i, j)) > 1e-3) ++bad;
    }
    ++runs;
  }
  stop = true;
  sender.join();
  omp_set_num_threads(saved);
  EXPECT_EQ(bad, 0) << "wrong products after " << runs << " interrupted GEMMs";
  EXPECT_GT(handled.load(), 0) << "no signal reached the handler";
  RecordProperty("gemms", runs);
  RecordProperty("signals_handled", handled.load());
}

INSTANTIATE_TEST_SUITE_P(LmHead, InterruptedGemmTest,
                         testing::Values(Shape{"logits", 512, 3072, 192, false, true, 0.0f},
                                         Shape{"d_lm_head", 3072, 192, 512, true, false, 1.0f},
                                         Shape{"d_h", 512, 192, 3072, false, false, 0.0f},
                                         Shape{"logits_chunk", 85, 3072, 192, false, true, 0.0f}),
                         [](const testing::TestParamInfo<Shape>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace gisp
