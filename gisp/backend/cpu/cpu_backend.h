// CpuBackend: GEMMs through cached oneDNN matmul primitives, every other op as vectorized
// OpenMP loops over all cores. A backend object is used by one thread at a time (it owns its
// scratch memory and primitive cache); create one per thread for concurrent work.
#ifndef GISP_BACKEND_CPU_CPU_BACKEND_H_
#define GISP_BACKEND_CPU_CPU_BACKEND_H_

#include <memory>

#include "gisp/backend/backend.h"

namespace gisp {

std::unique_ptr<Backend> NewCpuBackend();

}  // namespace gisp

#endif  // GISP_BACKEND_CPU_CPU_BACKEND_H_
