// Backend factories. CreateCudaBackend lives in cuda/ (the real one) or cuda_stub.cc.
#include "absl/strings/str_cat.h"
#include "gisp/backend/backend.h"
#include "gisp/backend/cpu/cpu_backend.h"
#include "gisp/backend/cpu/reference/reference_backend.h"
#include "gisp/base/cpu_features.h"

namespace gisp {

absl::StatusOr<std::unique_ptr<Backend>> CreateCpuBackend() {
  // The CPU kernels are compiled for x86-64-v3 (the rest of gisp for baseline x86-64): refuse an
  // older CPU here, with a Status, instead of letting the first kernel die with SIGILL.
  if (!HasX86V3()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the CPU backend needs an x86-64-v3 CPU (AVX2, FMA, F16C, BMI2: Intel Haswell / AMD "
        "Excavator or newer); this CPU has: ",
        CpuFeatureSummary()));
  }
  return NewCpuBackend();
}

std::unique_ptr<Backend> CreateReferenceBackend() { return NewReferenceBackend(); }

}  // namespace gisp
