// Data-parallel pruning with ranks as threads of one process (gisp/comm/thread_communicator.h),
// each with its own model: the record every rank ends with equals the single-process record,
// and any rank's failure (in setup, in a calibration pass, in a checkpoint) stops every rank
// with an error that names it. The same code runs under MPI in tools/ci/suite_mpi.sh.
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gisp/comm/thread_communicator.h"
#include "gisp/prune/pruner.h"
#include "gisp/prune/pruner_testing.h"
#include "gisp/prune/record.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using testing::PruneSession;

struct RankRun {
  PruneSession session;
  absl::Status result;
  std::vector<std::vector<double>> scores;  // per completed step
  int checkpoints = 0;
};

// Runs `ranks` pruners on threads, one model each; `before(rank, options)` may adjust a rank's
// options and `during(rank, session)` runs the steps (default: Run() step by step, keeping the
// scores).
std::vector<RankRun> RunRanks(int ranks, const LlamaConfig& c,
                              const std::vector<const CalibrationBatches*>& data,
                              const PrunerOptions& options,
                              const std::function<void(int, PrunerOptions*)>& before = nullptr) {
  auto comms = testing::MakeThreadCommunicators(ranks);
  std::vector<RankRun> runs(static_cast<size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      RankRun& run = runs[static_cast<size_t>(r)];
      PrunerOptions o = options;
      o.comm = comms[static_cast<size_t>(r)];
      o.checkpoint = [&run](const proto::Record&) {
        ++run.checkpoints;
        return absl::OkStatus();
      };
      if (before) before(r, &o);
      run.session = testing::StartSession(c, data[static_cast<size_t>(r) % data.size()], o);
      if (!run.session.created.ok()) {
        run.result = run.session.created;
        return;
      }
      Pruner& p = *run.session.pruner;
      while (!p.done() && run.result.ok()) {
        run.result = p.Step();
        if (run.result.ok()) run.scores.push_back(p.last_scores());
      }
      if (run.result.ok()) run.result = p.Run();  // the final loss
    });
  }
  for (auto& t : threads) t.join();
  return runs;
}

class DataParallelTest : public ::testing::TestWithParam<int> {};

TEST_P(DataParallelTest, EveryRankEndsWithTheSingleProcessRecord) {
  const int ranks = GetParam();
  const LlamaConfig c = testing::SmallGqa();
  // 7 sequences in batches of 2: 4 batches of unequal size, so the shares differ in size and,
  // with 5 ranks, one rank has no batch at all.
  const CalibrationBatches data = testing::RandomCalibration(c, 7);
  const PrunerOptions options = testing::StepsAndRatio(5, 0.6);
  PruneSession single = testing::StartSession(c, &data, options);
  ASSERT_TRUE(single.created.ok()) << single.created;
  std::vector<std::vector<double>> single_scores;
  while (!single.pruner->done()) {
    ASSERT_TRUE(single.pruner->Step().ok());
    single_scores.push_back(single.pruner->last_scores());
  }
  ASSERT_TRUE(single.pruner->Run().ok());
  const proto::Record& want = single.pruner->record();

  std::vector<RankRun> runs = RunRanks(ranks, c, {&data}, options);
  for (int r = 0; r < ranks; ++r) {
    const RankRun& run = runs[static_cast<size_t>(r)];
    ASSERT_TRUE(run.result.ok()) << "rank " << r << ": " << run.result;
    // Rank 0 alone checkpoints: once per step and once when complete.
    EXPECT_EQ(run.checkpoints, r == 0 ? 5 + 1 : 0) << "rank " << r;
    const proto::Record& got = run.session.pruner->record();
    // Identical Gbar on every rank: the records are the same bytes.
    EXPECT_EQ(got.SerializeAsString(), runs[0].session.pruner->record().SerializeAsString())
        << "rank " << r;
    // Against one process only the order of the f32 gradient additions differs: the decisions
    // are the same (these scores have no near-ties), the scores agree to 1e-5 relative
    // (docs/numerics.md) and the losses exactly, because each batch's loss is computed by one
    // rank on the same model and the ranks' shares are added up exactly.
    EXPECT_EQ(std::vector<int32_t>(got.pruned_at_step().begin(), got.pruned_at_step().end()),
              std::vector<int32_t>(want.pruned_at_step().begin(), want.pruned_at_step().end()));
    ASSERT_EQ(got.steps_size(), want.steps_size());
    for (int k = 0; k < want.steps_size(); ++k) {
      EXPECT_EQ(got.steps(k).calibration_loss(), want.steps(k).calibration_loss()) << k;
      EXPECT_EQ(got.steps(k).sparsity(), want.steps(k).sparsity()) << k;
      EXPECT_NEAR(got.steps(k).threshold(), want.steps(k).threshold(),
                  1e-5 * std::fabs(want.steps(k).threshold()))
          << k;
      const std::vector<double>& a = run.scores[static_cast<size_t>(k)];
      const std::vector<double>& b = single_scores[static_cast<size_t>(k)];
      ASSERT_EQ(a.size(), b.size());
      for (size_t u = 0; u < a.size(); ++u) {
        if (std::isinf(b[u])) {
          EXPECT_TRUE(std::isinf(a[u]));
        } else {
          EXPECT_NEAR(a[u], b[u], 1e-5 * std::fabs(b[u])) << "step " << k << " unit " << u;
        }
      }
    }
    EXPECT_EQ(got.final_calibration_loss(), want.final_calibration_loss());
    EXPECT_TRUE(got.complete());
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, DataParallelTest, ::testing::Values(1, 2, 3, 5));

TEST(DataParallelFailureTest, AFailedPassStopsEveryRankNamingIt) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  // Rank 1 poisons a weight of its own model after step 0: its pass in step 1 fails.
  auto comms = testing::MakeThreadCommunicators(2);
  std::vector<PruneSession> sessions(2);
  std::vector<absl::Status> step0(2), step1(2);
  std::vector<int> checkpoints(2, 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      PrunerOptions o = testing::StepsAndRatio(4, 0.5);
      o.comm = comms[static_cast<size_t>(r)];
      o.checkpoint = [&, r](const proto::Record&) {
        ++checkpoints[static_cast<size_t>(r)];
        return absl::OkStatus();
      };
      PruneSession& s = sessions[static_cast<size_t>(r)];
      s = testing::StartSession(c, &data, o);
      if (!s.created.ok()) return;
      step0[static_cast<size_t>(r)] = s.pruner->Step();
      if (r == 1) s.model->mutable_weights()->layers[1].gate_proj.f32()[0] = NAN;
      step1[static_cast<size_t>(r)] = s.pruner->Step();
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(sessions[static_cast<size_t>(r)].created.ok());
    EXPECT_TRUE(step0[static_cast<size_t>(r)].ok()) << step0[static_cast<size_t>(r)];
    const absl::Status& s = step1[static_cast<size_t>(r)];
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "rank " << r;
    EXPECT_EQ(s.message().rfind("step 1: rank 1 of 2: ", 0), 0u) << "rank " << r << ": " << s;
    EXPECT_NE(s.message().find("non-finite loss"), std::string::npos) << s;
    // The record keeps the completed step, on every rank; rank 0 checkpointed it once.
    const proto::Record& rec = sessions[static_cast<size_t>(r)].pruner->record();
    EXPECT_EQ(rec.steps_size(), 1);
    EXPECT_TRUE(ValidateRecord(rec, "partial").ok());
  }
  EXPECT_EQ(checkpoints, (std::vector<int>{1, 0}));
}

TEST(DataParallelFailureTest, ACancelledRankCancelsEveryRank) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  std::vector<RankRun> runs =
      RunRanks(2, c, {&data}, testing::StepsAndRatio(4, 0.5), [](int r, PrunerOptions* o) {
        if (r == 1) o->progress = [](const PruneProgress& p) { return p.step < 2; };
      });
  for (const RankRun& run : runs) {
    EXPECT_EQ(run.result.code(), absl::StatusCode::kCancelled) << run.result;
    EXPECT_EQ(run.result.message(), "step 2: rank 1 of 2: cancelled during the calibration pass");
    EXPECT_EQ(run.session.pruner->record().steps_size(), 2);
  }
}

TEST(DataParallelFailureTest, AFailedCheckpointOnRankZeroStopsEveryRank) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  std::vector<RankRun> runs =
      RunRanks(2, c, {&data}, testing::StepsAndRatio(4, 0.5), [](int r, PrunerOptions* o) {
        if (r == 0) {
          o->checkpoint = [](const proto::Record&) {
            return absl::ResourceExhaustedError("writing out/record.pb: the disk is full");
          };
        }
      });
  for (const RankRun& run : runs) {
    EXPECT_EQ(run.result.code(), absl::StatusCode::kResourceExhausted) << run.result;
    EXPECT_EQ(run.result.message(), "step 0: rank 0 of 2: writing out/record.pb: the disk is full");
  }
}

TEST(DataParallelFailureTest, RanksWithDifferentCalibrationSetsRefuseToStart) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches a = testing::RandomCalibration(c, 6, 12, 3);
  const CalibrationBatches b = testing::RandomCalibration(c, 6, 12, 4);
  std::vector<RankRun> runs = RunRanks(2, c, {&a, &b}, testing::StepsAndRatio(3, 0.5));
  for (const RankRun& run : runs) {
    EXPECT_EQ(run.result.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(run.result.message(),
              "rank 1 of 2 has a different calibration set (fingerprint) than rank 0");
  }
}

TEST(DataParallelFailureTest, ARankThatCannotCreateAPrunerAbandonsTheOthers) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c);
  auto comms = testing::MakeThreadCommunicators(2);
  absl::Status created, abandoned;
  std::thread rank1([&] {
    abandoned = Pruner::Abandon(*comms[1], absl::NotFoundError("calib.txt does not exist"));
  });
  PrunerOptions o = testing::StepsAndRatio(3, 0.5);
  o.comm = comms[0];
  created = testing::StartSession(c, &data, o).created;
  rank1.join();
  for (const absl::Status& s : {created, abandoned}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(s.message(), "rank 1 of 2: calib.txt does not exist");
  }
}

TEST(DataParallelTest, ResumedRanksFinishWithTheUninterruptedRecord) {
  const LlamaConfig c = testing::SmallMha();
  const CalibrationBatches data = testing::RandomCalibration(c);
  const PrunerOptions options = testing::StepsAndRatio(4, 0.5);
  std::vector<RankRun> whole = RunRanks(2, c, {&data}, options);
  ASSERT_TRUE(whole[0].result.ok()) << whole[0].result;
  // Stop after 2 steps (rank 1 cancels), then resume both ranks from rank 0's record.
  std::vector<RankRun> first = RunRanks(2, c, {&data}, options, [](int r, PrunerOptions* o) {
    if (r == 1) o->progress = [](const PruneProgress& p) { return p.step < 2; };
  });
  const proto::Record partial = first[0].session.pruner->record();
  ASSERT_EQ(partial.steps_size(), 2);
  auto comms = testing::MakeThreadCommunicators(2);
  std::vector<PruneSession> resumed(2);
  std::vector<absl::Status> results(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      PrunerOptions o = options;
      o.comm = comms[static_cast<size_t>(r)];
      resumed[static_cast<size_t>(r)] = testing::StartSession(c, &data, o, &partial);
      PruneSession& s = resumed[static_cast<size_t>(r)];
      results[static_cast<size_t>(r)] = s.created.ok() ? s.pruner->Run() : s.created;
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(results[static_cast<size_t>(r)].ok()) << results[static_cast<size_t>(r)];
    EXPECT_EQ(resumed[static_cast<size_t>(r)].pruner->record().SerializeAsString(),
              whole[0].session.pruner->record().SerializeAsString());
  }
}

}  // namespace
}  // namespace gisp
