// Built when gisp is compiled without CUDA (the default): every request for a CUDA backend
// answers Unavailable, so callers need no #ifdef.
#include "gisp/backend/backend.h"

namespace gisp {

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int /*index*/) {
  return absl::UnavailableError(
      "this gisp build has no CUDA backend; rebuild with `bazel build --config=cuda`");
}

}  // namespace gisp
