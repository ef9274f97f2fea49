// The CPU kernels as a table of function pointers, one table per instruction set the kernels
// were compiled for (isa.h), and the run-time choice between them. CpuBackend picks a table
// once, when it is created, and calls every kernel through it.
#ifndef GISP_BACKEND_CPU_KERNELS_H_
#define GISP_BACKEND_CPU_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gisp/backend/cpu/gemm.h"
#include "gisp/backend/cpu/scratch.h"

namespace gisp {
namespace cpu {

enum class CpuIsa { kGeneric, kAvx2, kAvx512 };

// "generic", "avx2", "avx512".
const char* CpuIsaName(CpuIsa isa);

// Shapes as Backend::AttentionForward / AttentionBackward.
struct AttentionShape {
  int64_t b, tq, tk, hq, kv, dh;
};

// One compiled copy of the kernels. Shapes are documented with the definitions (ops.h).
struct KernelTable {
  CpuIsa isa;
  void (*fill)(float* out, float value, int64_t n);
  void (*add)(float* out, const float* a, const float* b, int64_t n);
  void (*axpy)(float* y, float alpha, const float* x, int64_t n);
  void (*embedding_forward)(float* out, const float* table, const int32_t* ids, int64_t n,
                            int64_t d);
  void (*embedding_backward)(float* d_table, const float* d_out, const int32_t* ids, int64_t n,
                             int64_t d);
  void (*rms_norm_forward)(float* out, float* inv_rms, const float* x, const float* weight,
                           float eps, int64_t n, int64_t d);
  void (*rms_norm_backward)(float* d_x, float* d_weight, const float* d_out, const float* x,
                            const float* weight, const float* inv_rms, int64_t n, int64_t d,
                            Scratch* scratch);
  void (*rope)(float* x, const float* cos, const float* sin, int64_t pos_offset, bool inverse,
               int64_t b, int64_t t, int64_t h, int64_t dh);
  absl::Status (*attention_forward)(float* out, float* lse, const float* q, const float* k,
                                    const float* v, absl::Span<const int32_t> kv_map, float scale,
                                    const AttentionShape& s, OneDnnGemm* gemm, Scratch* scratch);
  absl::Status (*attention_backward)(float* d_q, float* d_k, float* d_v, const float* d_out,
                                     const float* q, const float* k, const float* v,
                                     const float* out, const float* lse,
                                     absl::Span<const int32_t> kv_map, float scale,
                                     const AttentionShape& s, OneDnnGemm* gemm, Scratch* scratch);
  void (*swiglu_forward)(float* out, const float* gate, const float* up, int64_t n);
  void (*swiglu_backward)(float* d_gate, float* d_up, const float* d_out, const float* gate,
                          const float* up, int64_t n);
  absl::Status (*cross_entropy)(float* nll, float* d_logits, const float* logits,
                                const int32_t* targets, const float* weights, int64_t n, int64_t v);
  void (*add_bias)(float* y, const float* bias, int64_t n, int64_t c);
  void (*column_sum)(float* d_bias, const float* d_y, int64_t n, int64_t c);
  void (*abs_prod_row_sum)(double* out, const float* w, const float* g, int64_t r, int64_t c);
  void (*abs_prod_col_sum)(double* out, const float* w, const float* g, int64_t r, int64_t c);
  void (*gather_rows)(void* out, const void* in, absl::Span<const int32_t> rows, int64_t c,
                      size_t elem);
  void (*gather_cols)(void* out, const void* in, absl::Span<const int32_t> cols, int64_t r,
                      int64_t c, size_t elem);
  void (*zero_rows)(void* t, absl::Span<const int32_t> rows, int64_t c, size_t elem);
  void (*zero_cols)(void* t, absl::Span<const int32_t> cols, int64_t r, int64_t c, size_t elem);
};

// The ISAs this build has kernel copies for, best first, whether or not this CPU runs them:
// avx512 and avx2 from Bazel's x86-64 build, generic from builds that compile every source once
// (aarch64, the clang sanitizer builds of tools/lib/clang_library.sh).
const std::vector<CpuIsa>& BuiltIsas();

// The ISAs this build has kernels for and this CPU runs, best first (empty on an x86-64 CPU
// without AVX2). CPUID is read once.
const std::vector<CpuIsa>& AvailableIsas();

// The kernels for `name`: "auto" (the best available), "avx2", "avx512" or "generic".
// InvalidArgument for another name; FailedPrecondition, saying what the CPU has, when this build
// has no such copy or this CPU cannot run it (never a SIGILL later).
absl::StatusOr<const KernelTable*> SelectKernels(const std::string& name);

// The thread count of the kernels' parallel loops (OpenMP's, under the caller's context).
int64_t NumThreads();

// Floats of one attention score block; tests lower it to force the chunked path on small
// shapes (0 restores the default).
int64_t AttentionScoreBudget();
void SetAttentionScoreBudgetForTesting(int64_t floats);

}  // namespace cpu
}  // namespace gisp

#endif  // GISP_BACKEND_CPU_KERNELS_H_
