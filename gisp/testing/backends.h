// The backends a shared test body runs on, the way ggml's test-backend-ops runs one test on
// every backend: kernel, model and pruner parity tests are instantiated over TestBackendNames()
// and skip (with the reason, counted as skipped) where a backend cannot be created here.
#ifndef GISP_TESTING_BACKENDS_H_
#define GISP_TESTING_BACKENDS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/backend/backend.h"

namespace gisp {
namespace testing {

// "cpu" and "cuda", always both: a build or machine without CUDA reports the CUDA cases as
// skipped instead of leaving them out silently.
std::vector<std::string> TestBackendNames();

// The named backend, or the reason it is unavailable (no CUDA in this build, no GPU, ...).
absl::StatusOr<std::unique_ptr<Backend>> CreateTestBackend(const std::string& name);

// A copy of host tensor `host` on `backend`'s device, in `dtype` (default: host's dtype).
Tensor ToDevice(Backend* backend, const Tensor& host);
Tensor ToDevice(Backend* backend, const Tensor& host, DType dtype);
// A host copy of device tensor `t` (same dtype).
Tensor ToHost(Backend* backend, const Tensor& t);
// An index list on `backend` (entries checked against `bound`).
IndexList Indices(Backend* backend, const std::vector<int32_t>& values, int64_t bound);

}  // namespace testing
}  // namespace gisp

#endif  // GISP_TESTING_BACKENDS_H_
