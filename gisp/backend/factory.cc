// Backend factories. CreateCudaBackend lives in cuda/ (the real one) or cuda_stub.cc.
#include "gisp/backend/backend.h"
#include "gisp/backend/cpu/cpu_backend.h"
#include "gisp/backend/cpu/reference/reference_backend.h"

namespace gisp {

absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackend() { return NewCpuBackend(); }

std::unique_ptr<Backend> CreateReferenceBackend() { return NewReferenceBackend(); }

}  // namespace gisp
