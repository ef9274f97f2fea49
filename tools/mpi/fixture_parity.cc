// The PyTorch GISP fixtures (testdata/gisp) pruned by MPI ranks: tools/ci/suite_mpi.sh runs it as
//   mpirun -np 2 bazel-bin/tools/mpi/fixture_parity
// from the workspace root. Every rank prunes each fixture with its share of the batches, moving
// data through the functions of c_api/gisp_mpi.h (the ones the CLI's communicator uses); rank 0
// checks every step against PyTorch (the checks of //gisp/prune:torch_gisp_parity_test) and
// against a single-process run of the same fixture, with the tolerances of docs/numerics.md
// ("Data-parallel runs"), and prints one PASS or FAIL line per fixture. Exit status 1 on rank 0
// when any check failed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "c_api/gisp_mpi.h"
#include "gisp/backend/backend.h"
#include "gisp/comm/callback_communicator.h"
#include "gisp/prune/gisp_fixture.h"
#include "gisp/prune/pruner.h"

namespace gisp {
namespace {

// Relative agreement of data-parallel and single-process scores and thresholds: only the order
// of the f32 additions of the ranks' gradient sums differs (docs/numerics.md).
constexpr double kRankTolerance = 1e-5;

struct Trajectory {
  std::vector<std::vector<double>> raw, scores;  // per step: raw and normalized unit scores
  proto::Record record;
  absl::Status status;
};

Trajectory Prune(const testing::GispFixture& f, std::shared_ptr<Communicator> comm) {
  Trajectory t;
  auto backend = CreateCpuBackend();
  if (!backend.ok()) {
    t.status = backend.status();
    return t;
  }
  auto model = LlamaModel::Create(f.checkpoint.config, f.checkpoint.weights, backend->get());
  if (!model.ok()) {
    t.status = model.status();  // the same on every rank: nothing collective has started
    return t;
  }
  PrunerOptions o = f.options;
  o.comm = std::move(comm);
  auto pruner = Pruner::Create(model->get(), &f.data, o);
  if (!pruner.ok()) {
    t.status = pruner.status();
    return t;
  }
  while (!(*pruner)->done() && t.status.ok()) {
    t.status = (*pruner)->Step();
    if (!t.status.ok()) break;
    t.raw.push_back((*pruner)->last_raw_scores());
    t.scores.push_back((*pruner)->last_scores());
  }
  if (t.status.ok()) t.status = (*pruner)->Run();
  t.record = (*pruner)->record();
  return t;
}

// What differs between the data-parallel and the single-process trajectory beyond the
// tolerance; `flips` counts units decided otherwise inside the tie band.
std::vector<std::string> CompareWithSingle(const Trajectory& ranks, const Trajectory& single,
                                           int* flips, double* worst) {
  std::vector<std::string> problems;
  const proto::Record &a = ranks.record, &b = single.record;
  if (a.steps_size() != b.steps_size()) return {"step counts differ"};
  for (int k = 0; k < b.steps_size(); ++k) {
    const std::vector<double>& sa = ranks.scores[static_cast<size_t>(k)];
    const std::vector<double>& sb = single.scores[static_cast<size_t>(k)];
    const double tau = b.steps(k).threshold();
    for (size_t u = 0; u < sb.size(); ++u) {
      if (!std::isinf(sb[u]) && sb[u] != 0) {
        *worst = std::max(*worst, std::fabs(sa[u] - sb[u]) / std::fabs(sb[u]));
      }
      if (std::isinf(sb[u]) != std::isinf(sa[u]) ||
          (!std::isinf(sb[u]) && std::fabs(sa[u] - sb[u]) > kRankTolerance * std::fabs(sb[u]))) {
        problems.push_back(absl::StrCat("step ", k, " unit ", u, ": score ", sa[u], " on ranks, ",
                                        sb[u], " alone"));
      }
      // A unit may be decided otherwise only when its score sits within the tie band of tau.
      const bool differs = (a.pruned_at_step(static_cast<int>(u)) == k) !=
                           (b.pruned_at_step(static_cast<int>(u)) == k);
      if (!differs) continue;
      if (std::fabs(sb[u] - tau) <= kRankTolerance * std::fabs(tau)) {
        ++*flips;
      } else {
        problems.push_back(absl::StrCat("step ", k, " unit ", u, " decided otherwise (score ",
                                        sb[u], ", tau ", tau, ")"));
      }
    }
    if (std::fabs(a.steps(k).threshold() - tau) > kRankTolerance * std::fabs(tau)) {
      problems.push_back(
          absl::StrCat("step ", k, ": tau ", a.steps(k).threshold(), " on ranks, ", tau, " alone"));
    }
    // Each batch's loss comes from one rank on the same model, and the shares add up exactly:
    // equal bit for bit until a tie-band flip changes the model.
    if (*flips == 0 && a.steps(k).calibration_loss() != b.steps(k).calibration_loss()) {
      problems.push_back(absl::StrCat("step ", k, ": loss ", a.steps(k).calibration_loss(),
                                      " on ranks, ", b.steps(k).calibration_loss(), " alone"));
    }
  }
  return problems;
}

int Main() {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  CommunicatorCallbacks callbacks;
  callbacks.all_reduce_f32 = &gisp_mpi_all_reduce_f32;
  callbacks.all_reduce_f64 = &gisp_mpi_all_reduce_f64;
  callbacks.broadcast = &gisp_mpi_broadcast;
  callbacks.user_data =
      reinterpret_cast<void*>(static_cast<intptr_t>(MPI_Comm_c2f(MPI_COMM_WORLD)));
  auto comm = CallbackCommunicator::Create(rank, size, callbacks);
  if (!comm.ok()) {
    std::fprintf(stderr, "rank %d: %s\n", rank, std::string(comm.status().message()).c_str());
    return 1;
  }
  int failed = 0;
  for (const std::string& name : testing::GispFixtureNames()) {
    auto fixture = testing::LoadGispFixture(name);
    if (!fixture.ok()) {
      // Every rank reads the same files: all fail here alike, before any collective call.
      if (rank == 0)
        std::printf("FAIL %s: %s\n", name.c_str(), fixture.status().ToString().c_str());
      ++failed;
      continue;
    }
    const Trajectory single = Prune(*fixture, nullptr);
    const Trajectory ranks = Prune(*fixture, *comm);
    if (rank != 0) continue;
    std::vector<std::string> problems;
    if (!single.status.ok()) problems.push_back("alone: " + single.status.ToString());
    if (!ranks.status.ok()) problems.push_back("on ranks: " + ranks.status.ToString());
    int flips = 0, torch_flips = 0;
    double worst = 0;
    if (problems.empty()) {
      problems = CompareWithSingle(ranks, single, &flips, &worst);
      for (int k = 0; k < ranks.record.steps_size(); ++k) {
        const testing::StepParity p = testing::CompareStepWithTorch(
            *fixture, k, ranks.record, ranks.raw[static_cast<size_t>(k)],
            ranks.scores[static_cast<size_t>(k)]);
        torch_flips += p.tolerated_flips;
        problems.insert(problems.end(), p.problems.begin(), p.problems.end());
      }
    }
    if (problems.empty()) {
      std::printf(
          "PASS %s on %d ranks: %d steps equal to one process (scores within %.1e, %d "
          "tie-band flips) and within PyTorch's tolerances (%d tie-band flips)\n",
          name.c_str(), size, ranks.record.steps_size(), worst, flips, torch_flips);
    } else {
      ++failed;
      std::printf("FAIL %s on %d ranks: %s\n", name.c_str(), size,
                  absl::StrJoin(problems.begin(),
                                problems.begin() + std::min<size_t>(problems.size(), 5), "; ")
                      .c_str());
    }
  }
  std::fflush(stdout);
  return rank == 0 && failed > 0 ? 1 : 0;
}

}  // namespace
}  // namespace gisp

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const int rc = gisp::Main();
  MPI_Finalize();
  return rc;
}
