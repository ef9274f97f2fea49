// Argument checks shared by every backend, so each verb rejects the same bad calls with the same
// message whatever device runs it. Each returns InvalidArgument naming the verb and the shapes.
#ifndef GISP_BACKEND_CHECKS_H_
#define GISP_BACKEND_CHECKS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "gisp/backend/backend.h"
#include "gisp/tensor/tensor.h"

namespace gisp {
namespace checks {

// Resolved GEMM geometry: batch count and M, N, K.
struct GemmDims {
  int64_t batch = 1;
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
};

absl::Status F32(absl::string_view verb, absl::string_view arg, const Tensor& t);
absl::Status I32(absl::string_view verb, absl::string_view arg, const Tensor& t);
absl::Status SameShape(absl::string_view verb, const Tensor& a, const Tensor& b);
absl::Status Rank(absl::string_view verb, absl::string_view arg, const Tensor& t, int rank);

absl::Status Gemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b, bool trans_b,
                  GemmDims* dims);
absl::Status Embedding(const Tensor& out, const Tensor& table, const Tensor& ids);
absl::Status RmsNorm(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                     const Tensor& weight);
absl::Status Rope(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset);
// Checks q/k/v/out/lse geometry; fills B, Tq, Tk, Hq, KV, Dh.
struct AttentionDims {
  int64_t b = 0, tq = 0, tk = 0, hq = 0, kv = 0, dh = 0;
};
absl::Status Attention(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                       const Tensor& v, const IndexList& kv_map, AttentionDims* dims);
// Attention plus the gradient tensors: d_q/d_out like q, d_k/d_v like k.
absl::Status AttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                               const Tensor& d_out, const Tensor& q, const Tensor& k,
                               const Tensor& v, const Tensor& out, const Tensor& lse,
                               const IndexList& kv_map, AttentionDims* dims);
absl::Status CrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                          const Tensor& targets, const Tensor& weights);
// GatherRows: in [R, C...] and out [rows.size(), C...] of one dtype, every row index in [0, R);
// fills the row count R and the row length C (elements).
absl::Status GatherRows(const Tensor& out, const Tensor& in, const IndexList& rows,
                        int64_t* row_count, int64_t* row_length);
// GatherCols: in [R, C], out [R, cols.size()], every column index in [0, C).
absl::Status GatherCols(const Tensor& out, const Tensor& in, const IndexList& cols);
// An index list of `verb` whose entries must lie in [0, limit): i32, rank 1, bound <= limit.
absl::Status IndexBound(absl::string_view verb, const IndexList& idx, int64_t limit);
absl::Status RowsCols(absl::string_view verb, const Tensor& t, int64_t* rows, int64_t* cols);
absl::Status Indices(absl::string_view verb, absl::Span<const int32_t> idx, int64_t limit);

}  // namespace checks
}  // namespace gisp

#endif  // GISP_BACKEND_CHECKS_H_
