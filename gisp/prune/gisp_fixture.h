// Test support: the PyTorch GISP runs of testdata/gisp (tools/reference/torch_gisp.py, float64)
// and the comparison of a gisp pruner's steps with them. Shared by torch_gisp_parity_test (one
// process, every backend) and tools/mpi/fixture_parity (MPI ranks).
#ifndef GISP_PRUNE_GISP_FIXTURE_H_
#define GISP_PRUNE_GISP_FIXTURE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/data/sequences.h"
#include "gisp/io/checkpoint.h"
#include "gisp/io/safetensors.h"
#include "gisp/prune/pruner.h"

namespace gisp {
namespace testing {

// The fixtures of testdata/gisp.
const std::vector<std::string>& GispFixtureNames();

struct GispFixture {
  std::string name;
  Checkpoint checkpoint;    // the model (testdata/llama/...)
  CalibrationBatches data;  // the reference's batches, loss weights included
  PrunerOptions options;    // the reference's configuration (no communicator, no hooks)
  int64_t units = 0;        // units the reference ranks
  std::optional<SafetensorsFile> expected;  // the reference's per-step results
};

// Reads testdata/gisp/<name> (paths relative to the working directory: the workspace root or a
// test's runfiles).
absl::StatusOr<GispFixture> LoadGispFixture(const std::string& name);

// How step `k` of a run compares with the reference.
struct StepParity {
  std::vector<std::string> problems;  // empty when every check passed
  double worst_score_error = 0;       // largest relative error of a normalized score
  int tolerated_flips = 0;            // units decided otherwise within the tie band
  std::string Summary() const;        // "<n> units pruned, ..." for the test log
  int64_t pruned_units = 0;
  double sparsity = 0;
};

// The checks, with their tolerances (float32 against float64; docs/numerics.md):
//  * normalized and raw unit scores within 1e-4 relative (protected units +inf on both sides),
//  * tau within 1e-4 relative, the calibration loss within 1e-5 relative,
//  * the pruning record identical except for units whose reference score lies within 1e-4
//    (relative) of tau, the tie band (the fixtures' smallest relative gap is 1.3e-3,
//    testdata/gisp/manifest.json),
//  * the sparsity equal when no unit was tolerated.
// `record` holds step k (later steps are ignored); `raw` and `scores` are step k's unit scores.
StepParity CompareStepWithTorch(const GispFixture& fixture, int32_t k, const proto::Record& record,
                                const std::vector<double>& raw, const std::vector<double>& scores);

}  // namespace testing
}  // namespace gisp

#endif  // GISP_PRUNE_GISP_FIXTURE_H_
