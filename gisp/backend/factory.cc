// Backend factories. CreateCudaBackend lives in cuda/ (the real one) or cuda_stub.cc.
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gisp/backend/backend.h"
#include "gisp/backend/cpu/cpu_backend.h"
#include "gisp/backend/cpu/kernels.h"
#include "gisp/backend/cpu/reference/reference_backend.h"

namespace gisp {

absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackend() {
  // The CPU kernels are compiled per ISA (AVX2+FMA, AVX-512; the rest of gisp for baseline
  // x86-64): NewCpuBackend refuses a CPU that runs none of them, or the one GISP_CPU_ISA forces,
  // with a Status instead of letting the first kernel die with SIGILL.
  const char* forced = std::getenv("GISP_CPU_ISA");
  if (forced == nullptr || forced[0] == '\0') return NewCpuBackend("auto");
  absl::StatusOr<std::unique_ptr<Backend>> backend = NewCpuBackend(forced);
  if (!backend.ok()) {
    return absl::Status(backend.status().code(),
                        absl::StrCat("GISP_CPU_ISA=", forced, ": ", backend.status().message()));
  }
  return backend;
}

absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackendForIsa(const std::string& isa) {
  return NewCpuBackend(isa);
}

std::vector<std::string> AvailableCpuIsas() {
  std::vector<std::string> names;
  for (cpu::CpuIsa isa : cpu::AvailableIsas()) names.push_back(cpu::CpuIsaName(isa));
  return names;
}

std::unique_ptr<Backend> CreateReferenceBackend() { return NewReferenceBackend(); }

}  // namespace gisp
