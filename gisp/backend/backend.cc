// The public verbs of Backend: the argument checks every device shares, run once, then the
// device's hook. Keeping them here (and only here) is what stops backends from drifting apart in
// what they accept.
#include "gisp/backend/backend.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "gisp/backend/checks.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

bool IsFloat(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kBF16 || t == DType::kF16;
}

// Every non-empty tensor lives on `device`.
absl::Status OnDevice(absl::string_view verb, Device device,
                      std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (t->empty() || t->device() == device) continue;
    return absl::InvalidArgumentError(absl::StrCat(verb, ": tensor ", t->DebugString(),
                                                   " given to the backend of ",
                                                   device.ToString()));
  }
  return absl::OkStatus();
}

// Conversions Upload/Download/Copy support: float to float, or i32 to i32.
absl::Status Convertible(absl::string_view verb, const Tensor& out, const Tensor& src) {
  GISP_CHECK_ARG(!out.empty() && !src.empty(), verb, ": empty tensor");
  GISP_CHECK_ARG(out.numel() == src.numel(), verb, ": ", src.DebugString(), " into ",
                 out.DebugString(), " (element counts differ)");
  const bool ok = (IsFloat(out.dtype()) && IsFloat(src.dtype())) ||
                  (out.dtype() == DType::kI32 && src.dtype() == DType::kI32);
  GISP_CHECK_ARG(ok, verb, ": cannot convert ", src.DebugString(), " into ", out.DebugString());
  return absl::OkStatus();
}

}  // namespace

absl::Status Backend::CheckCompute(absl::string_view verb,
                                   std::initializer_list<const Tensor*> tensors,
                                   DType* dtype) const {
  bool first = true;
  for (const Tensor* t : tensors) {
    if (t->empty()) continue;
    if (first) {
      *dtype = t->dtype();
      first = false;
      GISP_CHECK_ARG(SupportsComputeDType(*dtype), verb, ": ", name(), " does not compute in ",
                     DTypeName(*dtype), " (", t->DebugString(), ")");
    } else {
      GISP_CHECK_ARG(t->dtype() == *dtype, verb, ": mixed dtypes ", DTypeName(*dtype), " and ",
                     t->DebugString());
    }
  }
  return absl::OkStatus();
}

absl::Status Backend::CheckStorage(absl::string_view verb, absl::string_view arg, const Tensor& t,
                                   DType compute) const {
  const bool ok = t.dtype() == compute || (compute == DType::kF32 && IsFloat(t.dtype()) &&
                                           SupportsStorageDType(t.dtype()));
  GISP_CHECK_ARG(ok, verb, ": ", arg, " ", t.DebugString(), " is not in a storage dtype of ",
                 name());
  return absl::OkStatus();
}

void AllocationCounter::Add(int64_t bytes) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const int64_t now = live.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  int64_t seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}

Tensor Backend::Counted(const Tensor& t) {
  if (t.empty()) return t;
  // A second Buffer over the same memory: releasing it gives the bytes back, then drops the
  // device's own buffer (which frees the memory). Allocation is rare (the workspace reuses its
  // buffers), so the extra object costs nothing measurable.
  std::shared_ptr<Buffer> inner = t.buffer();
  const int64_t bytes = static_cast<int64_t>(inner->bytes());
  counter_->Add(bytes);
  std::shared_ptr<AllocationCounter> counter = counter_;
  auto outer = std::make_shared<Buffer>(inner->device(), inner->data(), inner->bytes(),
                                        [inner, counter, bytes](void*) mutable {
                                          counter->Release(bytes);
                                          inner.reset();
                                        });
  return Tensor(std::move(outer), t.offset_bytes(), t.shape(), t.dtype());
}

AllocationStats Backend::allocation_stats() const {
  AllocationStats s;
  s.live_bytes = counter_->live.load(std::memory_order_relaxed);
  s.peak_bytes = counter_->peak.load(std::memory_order_relaxed);
  s.allocations = counter_->allocations.load(std::memory_order_relaxed);
  return s;
}

void Backend::ResetPeakBytes() {
  counter_->peak.store(counter_->live.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

absl::StatusOr<Tensor> Backend::Allocate(Shape shape, DType dtype) {
  for (int64_t d : shape) {
    GISP_CHECK_ARG(d >= 0, "Allocate: negative dimension in ", ShapeToString(shape));
  }
  GISP_ASSIGN_OR_RETURN(Tensor t, DoAllocate(std::move(shape), dtype));
  return Counted(t);
}

absl::StatusOr<Tensor> Backend::AllocateZeroed(Shape shape, DType dtype) {
  for (int64_t d : shape) {
    GISP_CHECK_ARG(d >= 0, "AllocateZeroed: negative dimension in ", ShapeToString(shape));
  }
  // Zero bits mean zero in every dtype: fill whole f32 words covering the tensor, then view them
  // in the requested dtype.
  const size_t bytes = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);
  const int64_t words = static_cast<int64_t>((bytes + 3) / 4);
  GISP_ASSIGN_OR_RETURN(Tensor raw, DoAllocate({words}, DType::kF32));
  const Tensor flat = Counted(raw);
  if (words > 0) GISP_RETURN_IF_ERROR(DoFill(flat, 0.0f));
  return Tensor(flat.buffer(), flat.offset_bytes(), std::move(shape), dtype);
}

absl::StatusOr<MemoryInfo> Backend::QueryMemory() { return DoQueryMemory(); }

absl::Status Backend::Upload(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Convertible("Upload", out, src));
  GISP_CHECK_ARG(src.device().is_cpu(), "Upload: source ", src.DebugString(), " is not on the host");
  GISP_RETURN_IF_ERROR(OnDevice("Upload", device(), {&out}));
  return DoUpload(out, src);
}

absl::Status Backend::Download(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Convertible("Download", out, src));
  GISP_CHECK_ARG(out.device().is_cpu(), "Download: target ", out.DebugString(),
                 " is not on the host");
  GISP_RETURN_IF_ERROR(OnDevice("Download", device(), {&src}));
  return DoDownload(out, src);
}

absl::Status Backend::Copy(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Convertible("Copy", out, src));
  GISP_RETURN_IF_ERROR(OnDevice("Copy", device(), {&out, &src}));
  return DoCopy(out, src);
}

absl::StatusOr<IndexList> Backend::UploadIndices(absl::Span<const int32_t> indices,
                                                 int64_t bound) {
  GISP_CHECK_ARG(bound >= 0, "UploadIndices: negative bound ", bound);
  GISP_RETURN_IF_ERROR(checks::Indices("UploadIndices", indices, bound));
  IndexList list;
  list.bound = bound;
  if (indices.empty()) return list;
  const int64_t n = static_cast<int64_t>(indices.size());
  GISP_ASSIGN_OR_RETURN(Tensor values, DoAllocate({n}, DType::kI32));
  list.values = Counted(values);
  const Tensor host(Buffer::WrapHost(indices.data(), indices.size() * sizeof(int32_t), nullptr),
                    0, {n}, DType::kI32);
  GISP_RETURN_IF_ERROR(DoUpload(list.values, host));
  return list;
}

absl::Status Backend::Fill(const Tensor& out, float value) {
  DType c = DType::kF32;
  GISP_CHECK_ARG(!out.empty(), "Fill: out is empty");
  GISP_RETURN_IF_ERROR(CheckCompute("Fill", {&out}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("Fill", device(), {&out}));
  return DoFill(out, value);
}

absl::Status Backend::Synchronize() { return DoSynchronize(); }

absl::Status Backend::Gemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b,
                           bool trans_b, float alpha, float beta) {
  checks::GemmDims d;
  GISP_RETURN_IF_ERROR(checks::Gemm(out, a, trans_a, b, trans_b, &d));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("Gemm", {&out}, &c));
  GISP_RETURN_IF_ERROR(CheckStorage("Gemm", "a", a, c));
  GISP_RETURN_IF_ERROR(CheckStorage("Gemm", "b", b, c));
  GISP_RETURN_IF_ERROR(OnDevice("Gemm", device(), {&out, &a, &b}));
  return DoGemm(out, a, trans_a, b, trans_b, alpha, beta);
}

absl::Status Backend::Add(const Tensor& out, const Tensor& a, const Tensor& b) {
  GISP_RETURN_IF_ERROR(checks::SameShape("Add", out, a));
  GISP_RETURN_IF_ERROR(checks::SameShape("Add", a, b));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("Add", {&out, &a, &b}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("Add", device(), {&out, &a, &b}));
  return DoAdd(out, a, b);
}

absl::Status Backend::Axpy(const Tensor& y, float alpha, const Tensor& x) {
  GISP_RETURN_IF_ERROR(checks::SameShape("Axpy", y, x));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("Axpy", {&y, &x}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("Axpy", device(), {&y, &x}));
  return DoAxpy(y, alpha, x);
}

absl::Status Backend::EmbeddingForward(const Tensor& out, const Tensor& table, const Tensor& ids) {
  GISP_RETURN_IF_ERROR(checks::Embedding(out, table, ids));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("EmbeddingForward", {&out}, &c));
  GISP_RETURN_IF_ERROR(CheckStorage("EmbeddingForward", "table", table, c));
  GISP_RETURN_IF_ERROR(OnDevice("EmbeddingForward", device(), {&out, &table, &ids}));
  return DoEmbeddingForward(out, table, ids);
}

absl::Status Backend::EmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                        const Tensor& ids) {
  GISP_RETURN_IF_ERROR(checks::Embedding(d_out, d_table, ids));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("EmbeddingBackward", {&d_table, &d_out}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("EmbeddingBackward", device(), {&d_table, &d_out, &ids}));
  return DoEmbeddingBackward(d_table, d_out, ids);
}

absl::Status Backend::RmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                                     const Tensor& weight, float eps) {
  GISP_RETURN_IF_ERROR(checks::RmsNorm(out, inv_rms, x, weight));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("RmsNormForward", {&out, &inv_rms, &x, &weight}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("RmsNormForward", device(), {&out, &inv_rms, &x, &weight}));
  return DoRmsNormForward(out, inv_rms, x, weight, eps);
}

absl::Status Backend::RmsNormBackward(const Tensor& d_x, const Tensor& d_weight,
                                      const Tensor& d_out, const Tensor& x, const Tensor& weight,
                                      const Tensor& inv_rms) {
  GISP_RETURN_IF_ERROR(checks::RmsNorm(d_out, inv_rms, x, weight));
  GISP_RETURN_IF_ERROR(checks::SameShape("RmsNormBackward", d_x, x));
  GISP_CHECK_ARG(d_weight.empty() || d_weight.shape() == weight.shape(), "RmsNormBackward: d_weight ",
                 d_weight.DebugString(), " for weight ", weight.DebugString());
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("RmsNormBackward", {&d_x, &d_weight, &d_out, &x, &weight, &inv_rms}, &c));
  GISP_RETURN_IF_ERROR(
      OnDevice("RmsNormBackward", device(), {&d_x, &d_weight, &d_out, &x, &weight, &inv_rms}));
  return DoRmsNormBackward(d_x, d_weight, d_out, x, weight, inv_rms);
}

absl::Status Backend::Rope(const Tensor& x, const Tensor& cos, const Tensor& sin,
                           int64_t pos_offset, bool inverse) {
  GISP_RETURN_IF_ERROR(checks::Rope(x, cos, sin, pos_offset));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("Rope", {&x, &cos, &sin}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("Rope", device(), {&x, &cos, &sin}));
  return DoRope(x, cos, sin, pos_offset, inverse);
}

absl::Status Backend::AttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                       const Tensor& k, const Tensor& v, const IndexList& kv_map,
                                       float scale) {
  checks::AttentionDims d;
  GISP_RETURN_IF_ERROR(checks::Attention(out, lse, q, k, v, kv_map, &d));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("AttentionForward", {&out, &lse, &q, &k, &v}, &c));
  GISP_RETURN_IF_ERROR(
      OnDevice("AttentionForward", device(), {&out, &lse, &q, &k, &v, &kv_map.values}));
  return DoAttentionForward(out, lse, q, k, v, kv_map, scale);
}

absl::Status Backend::AttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                                        const Tensor& d_out, const Tensor& q, const Tensor& k,
                                        const Tensor& v, const Tensor& out, const Tensor& lse,
                                        const IndexList& kv_map, float scale) {
  checks::AttentionDims d;
  GISP_RETURN_IF_ERROR(
      checks::AttentionBackward(d_q, d_k, d_v, d_out, q, k, v, out, lse, kv_map, &d));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("AttentionBackward", {&d_q, &d_k, &d_v, &d_out, &q, &k, &v, &out, &lse}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("AttentionBackward", device(),
                                {&d_q, &d_k, &d_v, &d_out, &q, &k, &v, &out, &lse,
                                 &kv_map.values}));
  return DoAttentionBackward(d_q, d_k, d_v, d_out, q, k, v, out, lse, kv_map, scale);
}

absl::Status Backend::SwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) {
  GISP_RETURN_IF_ERROR(checks::SameShape("SwigluForward", out, gate));
  GISP_RETURN_IF_ERROR(checks::SameShape("SwigluForward", gate, up));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("SwigluForward", {&out, &gate, &up}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("SwigluForward", device(), {&out, &gate, &up}));
  return DoSwigluForward(out, gate, up);
}

absl::Status Backend::SwigluBackward(const Tensor& d_gate, const Tensor& d_up, const Tensor& d_out,
                                     const Tensor& gate, const Tensor& up) {
  GISP_RETURN_IF_ERROR(checks::SameShape("SwigluBackward", d_out, gate));
  GISP_RETURN_IF_ERROR(checks::SameShape("SwigluBackward", gate, up));
  GISP_RETURN_IF_ERROR(checks::SameShape("SwigluBackward", d_gate, gate));
  GISP_RETURN_IF_ERROR(checks::SameShape("SwigluBackward", d_up, up));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("SwigluBackward", {&d_gate, &d_up, &d_out, &gate, &up}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("SwigluBackward", device(), {&d_gate, &d_up, &d_out, &gate, &up}));
  return DoSwigluBackward(d_gate, d_up, d_out, gate, up);
}

absl::Status Backend::CrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                                   const Tensor& targets, const Tensor& weights) {
  GISP_RETURN_IF_ERROR(checks::CrossEntropy(nll, d_logits, logits, targets, weights));
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("CrossEntropy", {&nll, &d_logits, &logits, &weights}, &c));
  GISP_RETURN_IF_ERROR(
      OnDevice("CrossEntropy", device(), {&nll, &d_logits, &logits, &targets, &weights}));
  return DoCrossEntropy(nll, d_logits, logits, targets, weights);
}

absl::Status Backend::AddBias(const Tensor& y, const Tensor& bias) {
  int64_t rows = 0, cols = 0;
  GISP_RETURN_IF_ERROR(checks::RowsCols("AddBias", y, &rows, &cols));
  GISP_CHECK_ARG(bias.rank() == 1 && bias.dim(0) == cols, "AddBias: bias ", bias.DebugString(),
                 " for y ", y.DebugString());
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("AddBias", {&y, &bias}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("AddBias", device(), {&y, &bias}));
  return DoAddBias(y, bias);
}

absl::Status Backend::ColumnSum(const Tensor& d_bias, const Tensor& d_y) {
  int64_t rows = 0, cols = 0;
  GISP_RETURN_IF_ERROR(checks::RowsCols("ColumnSum", d_y, &rows, &cols));
  GISP_CHECK_ARG(d_bias.rank() == 1 && d_bias.dim(0) == cols, "ColumnSum: d_bias ",
                 d_bias.DebugString(), " for d_y ", d_y.DebugString());
  DType c = DType::kF32;
  GISP_RETURN_IF_ERROR(CheckCompute("ColumnSum", {&d_bias, &d_y}, &c));
  GISP_RETURN_IF_ERROR(OnDevice("ColumnSum", device(), {&d_bias, &d_y}));
  return DoColumnSum(d_bias, d_y);
}

#define GISP_ABS_PROD_CHECKS(verb, out_len)                                                  \
  int64_t rows = 0, cols = 0;                                                                \
  GISP_RETURN_IF_ERROR(checks::RowsCols(verb, w, &rows, &cols));                             \
  GISP_RETURN_IF_ERROR(checks::SameShape(verb, w, g));                                       \
  GISP_CHECK_ARG(out.rank() == 1 && out.dim(0) == (out_len) && out.dtype() == DType::kF64,   \
                 verb, ": out ", out.DebugString(), " (f64) for w ", w.DebugString());       \
  DType c = DType::kF32;                                                                     \
  GISP_RETURN_IF_ERROR(CheckCompute(verb, {&g}, &c));                                                                 \
  GISP_RETURN_IF_ERROR(CheckStorage(verb, "w", w, c));                                                             \
  GISP_RETURN_IF_ERROR(OnDevice(verb, device(), {&out, &w, &g}))

absl::Status Backend::AbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) {
  GISP_ABS_PROD_CHECKS("AbsProdRowSum", rows);
  return DoAbsProdRowSum(out, w, g);
}

absl::Status Backend::AbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) {
  GISP_ABS_PROD_CHECKS("AbsProdColSum", cols);
  return DoAbsProdColSum(out, w, g);
}

absl::Status Backend::GatherRows(const Tensor& out, const Tensor& in, const IndexList& rows) {
  int64_t r = 0, c = 0;
  GISP_RETURN_IF_ERROR(checks::GatherRows(out, in, rows, &r, &c));
  GISP_RETURN_IF_ERROR(OnDevice("GatherRows", device(), {&out, &in, &rows.values}));
  if (rows.size() == 0) return absl::OkStatus();
  return DoGatherRows(out, in, rows);
}

absl::Status Backend::GatherCols(const Tensor& out, const Tensor& in, const IndexList& cols) {
  GISP_RETURN_IF_ERROR(checks::GatherCols(out, in, cols));
  GISP_RETURN_IF_ERROR(OnDevice("GatherCols", device(), {&out, &in, &cols.values}));
  if (cols.size() == 0 || in.dim(0) == 0) return absl::OkStatus();
  return DoGatherCols(out, in, cols);
}

absl::Status Backend::ZeroRows(const Tensor& t, const IndexList& rows) {
  int64_t r = 0, c = 0;
  GISP_RETURN_IF_ERROR(checks::RowsCols("ZeroRows", t, &r, &c));
  GISP_RETURN_IF_ERROR(checks::IndexBound("ZeroRows", rows, r));
  GISP_RETURN_IF_ERROR(OnDevice("ZeroRows", device(), {&t, &rows.values}));
  if (rows.size() == 0) return absl::OkStatus();
  return DoZeroRows(t, rows);
}

absl::Status Backend::ZeroCols(const Tensor& t, const IndexList& cols) {
  GISP_RETURN_IF_ERROR(checks::Rank("ZeroCols", "t", t, 2));
  GISP_RETURN_IF_ERROR(checks::IndexBound("ZeroCols", cols, t.dim(1)));
  GISP_RETURN_IF_ERROR(OnDevice("ZeroCols", device(), {&t, &cols.values}));
  if (cols.size() == 0) return absl::OkStatus();
  return DoZeroCols(t, cols);
}

}  // namespace gisp
