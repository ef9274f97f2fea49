// The table of this copy's kernels (one copy per ISA, isa.h). Baseline code: it only takes
// addresses.
#include "gisp/backend/cpu/ops.h"

namespace gisp {
namespace cpu {
namespace GISP_ISA {

const KernelTable& Table() {
#if GISP_HAVE_AVX512
  constexpr CpuIsa kIsa = CpuIsa::kAvx512;
#elif GISP_HAVE_AVX2
  constexpr CpuIsa kIsa = CpuIsa::kAvx2;
#else
  constexpr CpuIsa kIsa = CpuIsa::kGeneric;
#endif
  static const KernelTable table = {
      kIsa,
      &Fill,
      &Add,
      &Axpy,
      &EmbeddingForward,
      &EmbeddingBackward,
      &RmsNormForward,
      &RmsNormBackward,
      &Rope,
      &AttentionForward,
      &AttentionBackward,
      &SwigluForward,
      &SwigluBackward,
      &CrossEntropy,
      &AddBias,
      &ColumnSum,
      &AbsProdRowSum,
      &AbsProdColSum,
      &GatherRows,
      &GatherCols,
      &ZeroRows,
      &ZeroCols,
  };
  return table;
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp
