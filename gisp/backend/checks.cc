#include "gisp/backend/checks.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {
namespace checks {
namespace {

absl::Status Bad(absl::string_view verb, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(verb, ": ", what));
}

}  // namespace

absl::Status F32(absl::string_view verb, absl::string_view arg, const Tensor& t) {
  if (t.empty()) return Bad(verb, absl::StrCat(arg, " is empty"));
  if (t.dtype() != DType::kF32) {
    return Bad(verb, absl::StrCat(arg, " must be f32, got ", t.DebugString()));
  }
  return absl::OkStatus();
}

absl::Status I32(absl::string_view verb, absl::string_view arg, const Tensor& t) {
  if (t.empty()) return Bad(verb, absl::StrCat(arg, " is empty"));
  if (t.dtype() != DType::kI32) {
    return Bad(verb, absl::StrCat(arg, " must be i32, got ", t.DebugString()));
  }
  return absl::OkStatus();
}

absl::Status SameShape(absl::string_view verb, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) {
    return Bad(verb, absl::StrCat("shapes differ: ", ShapeToString(a.shape()), " vs ",
                                  ShapeToString(b.shape())));
  }
  return absl::OkStatus();
}

absl::Status Rank(absl::string_view verb, absl::string_view arg, const Tensor& t, int rank) {
  if (t.rank() != rank) {
    return Bad(verb, absl::StrCat(arg, " must have rank ", rank, ", got ", t.DebugString()));
  }
  return absl::OkStatus();
}

absl::Status Gemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b, bool trans_b,
                  GemmDims* dims) {
  if (a.empty() || b.empty() || out.empty()) return Bad("Gemm", "empty operand");
  const int r = out.rank();
  if (r < 2 || a.rank() != r || b.rank() != r) {
    return Bad("Gemm", absl::StrCat("operands must share a rank >= 2: out ", out.DebugString(),
                                    ", a ", a.DebugString(), ", b ", b.DebugString()));
  }
  int64_t batch = 1;
  for (int i = 0; i < r - 2; ++i) {
    if (a.dim(i) != out.dim(i) || b.dim(i) != out.dim(i)) {
      return Bad("Gemm", absl::StrCat("batch dims differ: out ", out.DebugString(), ", a ",
                                      a.DebugString(), ", b ", b.DebugString()));
    }
    batch *= out.dim(i);
  }
  const int64_t m = trans_a ? a.dim(-1) : a.dim(-2);
  const int64_t ka = trans_a ? a.dim(-2) : a.dim(-1);
  const int64_t kb = trans_b ? b.dim(-1) : b.dim(-2);
  const int64_t n = trans_b ? b.dim(-2) : b.dim(-1);
  if (ka != kb || out.dim(-2) != m || out.dim(-1) != n) {
    return Bad("Gemm", absl::StrCat("shape mismatch: out ", ShapeToString(out.shape()), " = op(a ",
                                    ShapeToString(a.shape()), trans_a ? "^T" : "", ") @ op(b ",
                                    ShapeToString(b.shape()), trans_b ? "^T" : "", ")"));
  }
  *dims = GemmDims{batch, m, n, ka};
  return absl::OkStatus();
}

absl::Status Embedding(const Tensor& out, const Tensor& table, const Tensor& ids) {
  if (out.rank() != 2 || table.rank() != 2 || ids.rank() != 1 || out.dim(0) != ids.dim(0) ||
      out.dim(1) != table.dim(1)) {
    return Bad("Embedding",
               absl::StrCat("expected out [N, D], table [V, D], ids [N]; got ", out.DebugString(),
                            ", ", table.DebugString(), ", ", ids.DebugString()));
  }
  return I32("Embedding", "ids", ids);
}

absl::Status RmsNorm(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                     const Tensor& weight) {
  if (x.rank() != 2 || out.shape() != x.shape() || inv_rms.rank() != 1 ||
      inv_rms.dim(0) != x.dim(0) || weight.rank() != 1 || weight.dim(0) != x.dim(1)) {
    return Bad("RmsNorm", absl::StrCat("expected out, x [N, D], inv_rms [N], weight [D]; got ",
                                       out.DebugString(), ", ", inv_rms.DebugString(), ", ",
                                       x.DebugString(), ", ", weight.DebugString()));
  }
  return absl::OkStatus();
}

absl::Status Rope(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset) {
  if (x.rank() != 4 || cos.rank() != 2 || cos.shape() != sin.shape() ||
      cos.dim(1) * 2 != x.dim(3) || pos_offset < 0 || pos_offset + x.dim(1) > cos.dim(0)) {
    return Bad("Rope",
               absl::StrCat("expected x [B, T, H, Dh], cos/sin [P, Dh/2] with offset + T "
                            "<= P; got x ",
                            x.DebugString(), ", cos ", cos.DebugString(), ", offset ", pos_offset));
  }
  return absl::OkStatus();
}

absl::Status Attention(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                       const Tensor& v, const IndexList& kv_map, AttentionDims* dims) {
  if (q.rank() != 4 || k.rank() != 4 || v.shape() != k.shape() || out.shape() != q.shape() ||
      lse.rank() != 3 || q.dim(0) != k.dim(0) || q.dim(3) != k.dim(3) || k.dim(1) < q.dim(1) ||
      lse.dim(0) != q.dim(0) || lse.dim(1) != q.dim(2) || lse.dim(2) != q.dim(1) ||
      kv_map.size() != q.dim(2)) {
    return Bad("Attention",
               absl::StrCat("expected out, q [B, Tq, Hq, Dh], k, v [B, Tk, KV, Dh] with Tk >= Tq, "
                            "lse [B, Hq, Tq], kv_map [Hq]; got out ",
                            out.DebugString(), ", lse ", lse.DebugString(), ", q ", q.DebugString(),
                            ", k ", k.DebugString(), ", v ", v.DebugString(), ", kv_map of ",
                            kv_map.size()));
  }
  GISP_RETURN_IF_ERROR(IndexBound("Attention: kv_map", kv_map, k.dim(2)));
  *dims = AttentionDims{q.dim(0), q.dim(1), k.dim(1), q.dim(2), k.dim(2), q.dim(3)};
  return absl::OkStatus();
}

absl::Status AttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                               const Tensor& d_out, const Tensor& q, const Tensor& k,
                               const Tensor& v, const Tensor& out, const Tensor& lse,
                               const IndexList& kv_map, AttentionDims* dims) {
  GISP_RETURN_IF_ERROR(Attention(out, lse, q, k, v, kv_map, dims));
  GISP_RETURN_IF_ERROR(SameShape("AttentionBackward", d_q, q));
  GISP_RETURN_IF_ERROR(SameShape("AttentionBackward", d_k, k));
  GISP_RETURN_IF_ERROR(SameShape("AttentionBackward", d_v, v));
  return SameShape("AttentionBackward", d_out, out);
}

absl::Status GatherRows(const Tensor& out, const Tensor& in, const IndexList& rows,
                        int64_t* row_count, int64_t* row_length) {
  int64_t orows = 0, ocols = 0;
  GISP_RETURN_IF_ERROR(RowsCols("GatherRows", in, row_count, row_length));
  GISP_RETURN_IF_ERROR(RowsCols("GatherRows", out, &orows, &ocols));
  GISP_CHECK_ARG(ocols == *row_length && orows == rows.size() &&
                     out.dtype() == in.dtype(),
                 "GatherRows: out ", out.DebugString(), " for ", rows.size(), " rows of ",
                 in.DebugString());
  return IndexBound("GatherRows", rows, *row_count);
}

absl::Status GatherCols(const Tensor& out, const Tensor& in, const IndexList& cols) {
  GISP_RETURN_IF_ERROR(Rank("GatherCols", "in", in, 2));
  GISP_RETURN_IF_ERROR(Rank("GatherCols", "out", out, 2));
  GISP_CHECK_ARG(out.dim(0) == in.dim(0) && out.dim(1) == cols.size() && out.dtype() == in.dtype(),
                 "GatherCols: out ", out.DebugString(), " for ", cols.size(), " cols of ",
                 in.DebugString());
  return IndexBound("GatherCols", cols, in.dim(1));
}

absl::Status CrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                          const Tensor& targets, const Tensor& weights) {
  if (logits.rank() != 2 || nll.rank() != 1 || nll.dim(0) != logits.dim(0) ||
      targets.shape() != nll.shape() || weights.shape() != nll.shape() ||
      (!d_logits.empty() && d_logits.shape() != logits.shape())) {
    return Bad("CrossEntropy",
               absl::StrCat("expected logits [N, V], nll/targets/weights [N]; got logits ",
                            logits.DebugString(), ", nll ", nll.DebugString(), ", targets ",
                            targets.DebugString(), ", weights ", weights.DebugString()));
  }
  return I32("CrossEntropy", "targets", targets);
}

absl::Status RowsCols(absl::string_view verb, const Tensor& t, int64_t* rows, int64_t* cols) {
  if (t.rank() == 1) {
    *rows = t.dim(0);
    *cols = 1;
  } else if (t.rank() == 2) {
    *rows = t.dim(0);
    *cols = t.dim(1);
  } else {
    return Bad(verb, absl::StrCat("expected a rank 1 or 2 tensor, got ", t.DebugString()));
  }
  return absl::OkStatus();
}

absl::Status Indices(absl::string_view verb, absl::Span<const int32_t> idx, int64_t limit) {
  for (int32_t i : idx) {
    if (i < 0 || i >= limit) {
      return Bad(verb, absl::StrCat("index ", i, " outside [0, ", limit, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status IndexBound(absl::string_view verb, const IndexList& idx, int64_t limit) {
  if (idx.values.empty()) {
    if (idx.bound == 0 || idx.bound <= limit) return absl::OkStatus();  // an empty list
  } else if (idx.values.dtype() != DType::kI32 || idx.values.rank() != 1) {
    return Bad(verb, absl::StrCat("index list must be i32 [n], got ", idx.values.DebugString()));
  }
  if (idx.bound > limit) {
    return Bad(verb, absl::StrCat("index list with entries up to ", idx.bound - 1,
                                  " for an extent of ", limit));
  }
  return absl::OkStatus();
}

}  // namespace checks
}  // namespace gisp
