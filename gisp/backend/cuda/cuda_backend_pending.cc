// Placeholder until the CUDA backend lands: with --config=cuda the build links this file, which
// reports that the backend is not implemented yet instead of pretending to run on the GPU.
#include "gisp/backend/backend.h"

namespace gisp {

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int /*index*/) {
  return absl::UnimplementedError("the CUDA backend is not implemented yet in this gisp version");
}

}  // namespace gisp
