// CpuBackend: GEMMs through cached oneDNN matmul primitives, every other op as vectorized
// OpenMP loops over all cores. A backend object is used by one thread at a time (it owns its
// scratch memory and primitive cache); create one per thread for concurrent work.
#ifndef GISP_BACKEND_CPU_CPU_BACKEND_H_
#define GISP_BACKEND_CPU_CPU_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gisp/backend/backend.h"

namespace gisp {

// The CPU backend with the kernels compiled for `isa` ("auto", "avx2", "avx512", "generic";
// cpu::SelectKernels says which exist and run here). An error, never a SIGILL later, when this
// build or CPU lacks it.
absl::StatusOr<std::unique_ptr<Backend>> NewCpuBackend(const std::string& isa);

}  // namespace gisp

#endif  // GISP_BACKEND_CPU_CPU_BACKEND_H_
