// Run-time choice of the kernel copy. Baseline code.
#include "gisp/backend/cpu/kernels.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/cpu_features.h"

namespace gisp {
namespace cpu {

// The copies this build has (each defined in its own kernel library). Bazel's :cpu target
// defines GISP_CPU_KERNELS_PER_ISA and links the AVX2 and AVX-512 copies; a build that compiles
// every source once without ISA defines (aarch64's tools/ci/aarch64.mk, the clang fuzz build of
// tools/fuzz.sh) gets the portable copy only.
#if defined(GISP_CPU_KERNELS_PER_ISA)
namespace avx2 {
const KernelTable& Table();
}
namespace avx512 {
const KernelTable& Table();
}
#else
namespace generic {
const KernelTable& Table();
}
#endif

namespace {

// The copy of `isa` in this build, or nullptr.
const KernelTable* Built(CpuIsa isa) {
#if defined(GISP_CPU_KERNELS_PER_ISA)
  if (isa == CpuIsa::kAvx2) return &avx2::Table();
  if (isa == CpuIsa::kAvx512) return &avx512::Table();
#else
  if (isa == CpuIsa::kGeneric) return &generic::Table();
#endif
  return nullptr;
}

// Whether this CPU runs the copy compiled for `isa` (isa.h's target lists).
bool CpuRuns(CpuIsa isa) {
#if defined(GISP_CPU_KERNELS_PER_ISA) && defined(__x86_64__)
  __builtin_cpu_init();
  switch (isa) {
    case CpuIsa::kGeneric:
      return true;
    case CpuIsa::kAvx2:
      return HasX86V3();
    case CpuIsa::kAvx512:
      return HasX86V3() && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
  }
  return false;
#else
  return isa == CpuIsa::kGeneric;
#endif
}

}  // namespace

const std::vector<CpuIsa>& BuiltIsas() {
  static const std::vector<CpuIsa> isas = [] {
    std::vector<CpuIsa> v;
    for (CpuIsa isa : {CpuIsa::kAvx512, CpuIsa::kAvx2, CpuIsa::kGeneric}) {
      if (Built(isa) != nullptr) v.push_back(isa);
    }
    return v;
  }();
  return isas;
}

const char* CpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kGeneric:
      return "generic";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512";
  }
  return "?";
}

const std::vector<CpuIsa>& AvailableIsas() {
  static const std::vector<CpuIsa> isas = [] {
    std::vector<CpuIsa> v;
    for (CpuIsa isa : {CpuIsa::kAvx512, CpuIsa::kAvx2, CpuIsa::kGeneric}) {
      if (Built(isa) != nullptr && CpuRuns(isa)) v.push_back(isa);
    }
    return v;
  }();
  return isas;
}

absl::StatusOr<const KernelTable*> SelectKernels(const std::string& name) {
  if (name == "auto" || name.empty()) {
    if (AvailableIsas().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the CPU backend needs an x86-64-v3 CPU (AVX2, FMA, F16C, BMI2: Intel Haswell / AMD "
          "Excavator or newer); this CPU has: ",
          CpuFeatureSummary()));
    }
    return Built(AvailableIsas().front());
  }
  for (CpuIsa isa : {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvx512}) {
    if (name != CpuIsaName(isa)) continue;
    if (Built(isa) == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("CPU kernel ISA '", name, "' is not in this build (it has ",
                       CpuIsaName(BuiltIsas().front()),
                       BuiltIsas().size() > 1 ? absl::StrCat(" and ", CpuIsaName(BuiltIsas()[1]))
                                              : std::string(),
                       ")"));
    }
    if (!CpuRuns(isa)) {
      return absl::FailedPreconditionError(absl::StrCat("CPU kernel ISA '", name,
                                                        "' needs instructions this CPU lacks; "
                                                        "this CPU has: ",
                                                        CpuFeatureSummary()));
    }
    return Built(isa);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown CPU kernel ISA '", name, "' (expected auto, avx2, avx512 or generic)"));
}

}  // namespace cpu
}  // namespace gisp
