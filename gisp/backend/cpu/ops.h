// CPU kernels behind CpuBackend, declared in the namespace of the ISA this copy is compiled for
// (isa.h: gisp::cpu::avx2, avx512 or generic); CpuBackend reaches them through kernels.h's
// table. Only kernel sources include this header. Arguments are validated by the backend
// (gisp/backend/checks.h) before these run; they take raw pointers and sizes. Each kernel lives in
// its own .cc file and spreads its work over the OpenMP threads (oneDNN's pool) with static
// schedules, so results do not depend on timing. Reductions that cross rows use fixed partitions,
// so they do not depend on the thread count either.
#ifndef GISP_BACKEND_CPU_OPS_H_
#define GISP_BACKEND_CPU_OPS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "gisp/backend/cpu/gemm.h"
#include "gisp/backend/cpu/isa.h"
#include "gisp/backend/cpu/kernels.h"
#include "gisp/backend/cpu/scratch.h"

namespace gisp {
namespace cpu {
namespace GISP_ISA {

// elementwise.cc
void Fill(float* out, float value, int64_t n);
void Add(float* out, const float* a, const float* b, int64_t n);
void Axpy(float* y, float alpha, const float* x, int64_t n);

// embedding.cc. out: [N, D], table: [V, D], ids: [N].
void EmbeddingForward(float* out, const float* table, const int32_t* ids, int64_t n, int64_t d);
// d_table: [V, D] +=; d_out: [N, D].
void EmbeddingBackward(float* d_table, const float* d_out, const int32_t* ids, int64_t n,
                       int64_t d);

// rms_norm.cc. x, out: [N, D], inv_rms: [N], weight: [D].
void RmsNormForward(float* out, float* inv_rms, const float* x, const float* weight, float eps,
                    int64_t n, int64_t d);
// d_x: [N, D] +=; d_weight: [D] += (nullptr: skip).
void RmsNormBackward(float* d_x, float* d_weight, const float* d_out, const float* x,
                     const float* weight, const float* inv_rms, int64_t n, int64_t d,
                     Scratch* scratch);

// rope.cc. x: [B, T, H, Dh] in place; cos, sin: [P, Dh/2].
void Rope(float* x, const float* cos, const float* sin, int64_t pos_offset, bool inverse, int64_t b,
          int64_t t, int64_t h, int64_t dh);

// attention.cc. Shapes as Backend::AttentionForward / AttentionBackward.
absl::Status AttentionForward(float* out, float* lse, const float* q, const float* k,
                              const float* v, absl::Span<const int32_t> kv_map, float scale,
                              const AttentionShape& s, OneDnnGemm* gemm, Scratch* scratch);
absl::Status AttentionBackward(float* d_q, float* d_k, float* d_v, const float* d_out,
                               const float* q, const float* k, const float* v, const float* out,
                               const float* lse, absl::Span<const int32_t> kv_map, float scale,
                               const AttentionShape& s, OneDnnGemm* gemm, Scratch* scratch);

// swiglu.cc. All [n] elements.
void SwigluForward(float* out, const float* gate, const float* up, int64_t n);
void SwigluBackward(float* d_gate, float* d_up, const float* d_out, const float* gate,
                    const float* up, int64_t n);

// cross_entropy.cc. logits, d_logits: [N, V] (d_logits may alias logits or be nullptr).
// Returns InvalidArgument for a target outside [-1, V) (a second line of defence: the model
// validates targets before they reach the backend).
absl::Status CrossEntropy(float* nll, float* d_logits, const float* logits, const int32_t* targets,
                          const float* weights, int64_t n, int64_t v);

// bias.cc. y: [N, C] += bias [C]; d_bias [C] += column sums of d_y [N, C].
void AddBias(float* y, const float* bias, int64_t n, int64_t c);
void ColumnSum(float* d_bias, const float* d_y, int64_t n, int64_t c);

// saliency.cc. w, g: [R, C]; out: [R] (row sums) or [C] (column sums) of |w * g|, in double.
void AbsProdRowSum(double* out, const float* w, const float* g, int64_t r, int64_t c);
void AbsProdColSum(double* out, const float* w, const float* g, int64_t r, int64_t c);

// gather.cc. Row-major [R, C] with `elem` bytes per element.
void GatherRows(void* out, const void* in, absl::Span<const int32_t> rows, int64_t c, size_t elem);
void GatherCols(void* out, const void* in, absl::Span<const int32_t> cols, int64_t r, int64_t c,
                size_t elem);
void ZeroRows(void* t, absl::Span<const int32_t> rows, int64_t c, size_t elem);
void ZeroCols(void* t, absl::Span<const int32_t> cols, int64_t r, int64_t c, size_t elem);

// This copy's table (kernel_table.cc).
const KernelTable& Table();

// Calls fn(c0, c1) in parallel for NumThreads() contiguous, disjoint ranges that cover [0, c)
// (some may be empty). Kernels that sum rows into columns use it: each column is summed by one
// thread in row order, with no atomics, so the result does not depend on the thread count.
template <typename Fn>
void ForColumnRanges(int64_t c, Fn fn) {
  const int64_t threads = NumThreads();
#pragma omp parallel for schedule(static)
  for (int64_t part = 0; part < threads; ++part) fn(c * part / threads, c * (part + 1) / threads);
}

// Calls fn(i0, i1) in parallel for the blocks of `block` items that cover [0, n): elementwise
// kernels take a block per task, large enough to amortize the task and vectorize its inside.
template <typename Fn>
void ForBlocks(int64_t n, int64_t block, Fn fn) {
  const int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) fn(b * block, b * block + block < n ? b * block + block : n);
}

}  // namespace GISP_ISA
}  // namespace cpu
}  // namespace gisp

#endif  // GISP_BACKEND_CPU_OPS_H_
