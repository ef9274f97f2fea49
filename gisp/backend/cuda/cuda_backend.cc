// The CUDA backend: one non-blocking stream, a cuBLAS handle bound to it with an explicit
// workspace, and a growable scratch buffer, all owned by the backend object. Every hook queues
// its work on the stream and returns; Download and Upload synchronize, Synchronize reports
// deferred device errors. Kernels live in the .cu files next to this one and are reached through
// plain C++ launchers (runtime.h explains why no CUDA header is included here).
//
// Memory comes from the device's stream-ordered pool (cudaMallocAsync / cudaFreeAsync on the
// backend's stream). Buffers may outlive the backend object, so their deleters share ownership
// of the stream (StreamOwner), which is destroyed after the last of them.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/backend/backend.h"
#include "gisp/backend/cuda/attention.h"
#include "gisp/backend/cuda/bias.h"
#include "gisp/backend/cuda/blas.h"
#include "gisp/backend/cuda/column_reduce.h"
#include "gisp/backend/cuda/convert.h"
#include "gisp/backend/cuda/cross_entropy.h"
#include "gisp/backend/cuda/cuda_status.h"
#include "gisp/backend/cuda/elementwise.h"
#include "gisp/backend/cuda/embedding.h"
#include "gisp/backend/cuda/gather.h"
#include "gisp/backend/cuda/rms_norm.h"
#include "gisp/backend/cuda/rope.h"
#include "gisp/backend/cuda/runtime.h"
#include "gisp/backend/cuda/saliency.h"
#include "gisp/backend/cuda/swiglu.h"
#include "gisp/base/dtype.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

using cuda_internal::BlasCheck;
using cuda_internal::CudaCheck;
using cuda_internal::OutOfMemory;

constexpr size_t kBlasWorkspaceBytes = size_t{32} << 20;  // cuBLAS's recommendation for Hopper
constexpr size_t kTransferChunkBytes = size_t{64} << 20;  // staging size of converting transfers
constexpr size_t kScratchGranule = size_t{1} << 20;

gpu::ElemType ToElem(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return gpu::ElemType::kF32;
    case DType::kBF16:
      return gpu::ElemType::kBF16;
    case DType::kF16:
      return gpu::ElemType::kF16;
    case DType::kF64:
      return gpu::ElemType::kF64;
    case DType::kI32:
      return gpu::ElemType::kI32;
  }
  return gpu::ElemType::kF32;
}

// Rows and columns of a rank 1 ([R] = R rows of 1) or rank 2 tensor, as checks::RowsCols.
int64_t Rows(const Tensor& t) { return t.dim(0); }
int64_t Cols(const Tensor& t) { return t.rank() == 2 ? t.dim(1) : 1; }

const int32_t* Indices(const IndexList& list) {
  return list.values.empty() ? nullptr : list.values.i32();
}

char* Bytes(const Tensor& t) { return static_cast<char*>(t.raw()); }

// The device and stream shared by the backend and the deleters of every buffer it allocated.
struct StreamOwner {
  int device = 0;
  gpu::Stream stream = nullptr;

  StreamOwner() = default;
  StreamOwner(const StreamOwner&) = delete;
  StreamOwner& operator=(const StreamOwner&) = delete;
  ~StreamOwner() {
    if (stream == nullptr) return;
    gpu::SetDevice(device);
    gpu::StreamSynchronize(stream);  // lets pending frees complete; errors are of no use here
    gpu::StreamDestroy(stream);
    gpu::GetLastError();
  }
};

// Buffer deleter: frees in stream order on the owning stream. Must not throw or abort; errors
// (for example a runtime already unloading at process exit) are dropped.
void FreeOnStream(const std::shared_ptr<StreamOwner>& owner, void* ptr) noexcept {
  if (ptr == nullptr) return;
  int previous = -1;
  const bool restore = gpu::GetDevice(&previous) == 0 && previous != owner->device;
  gpu::SetDevice(owner->device);
  gpu::FreeAsync(ptr, owner->stream);
  if (restore) gpu::SetDevice(previous);
  gpu::GetLastError();
}

class CudaBackend final : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<Backend>> Create(int index);

  ~CudaBackend() override {
    if (owner_ == nullptr || owner_->stream == nullptr) return;  // Create failed early
    gpu::SetDevice(owner_->device);
    if (blas_ != nullptr) gpu::BlasDestroy(blas_);
    if (blas_workspace_ != nullptr) gpu::FreeAsync(blas_workspace_, stream());
    if (scratch_ != nullptr) gpu::FreeAsync(scratch_, stream());
    gpu::StreamSynchronize(stream());
    gpu::GetLastError();
  }

  Device device() const override { return Device::Cuda(owner_->device); }
  std::string name() const override { return name_; }
  bool SupportsComputeDType(DType dtype) const override { return dtype == DType::kF32; }
  bool SupportsStorageDType(DType dtype) const override {
    return dtype == DType::kF32 || dtype == DType::kBF16 || dtype == DType::kF16;
  }

 protected:
  absl::StatusOr<Tensor> DoAllocate(Shape shape, DType dtype) override;
  absl::StatusOr<MemoryInfo> DoQueryMemory() override;
  absl::Status DoUpload(const Tensor& out, const Tensor& src) override;
  absl::Status DoDownload(const Tensor& out, const Tensor& src) override;
  absl::Status DoCopy(const Tensor& out, const Tensor& src) override;
  absl::Status DoFill(const Tensor& out, float value) override;
  absl::Status DoSynchronize() override;
  absl::Status DoGemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b,
                      bool trans_b, float alpha, float beta) override;
  absl::Status DoAdd(const Tensor& out, const Tensor& a, const Tensor& b) override;
  absl::Status DoAxpy(const Tensor& y, float alpha, const Tensor& x) override;
  absl::Status DoEmbeddingForward(const Tensor& out, const Tensor& table,
                                  const Tensor& ids) override;
  absl::Status DoEmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                   const Tensor& ids) override;
  absl::Status DoRmsNormForward(const Tensor& out, const Tensor& inv_rms, const Tensor& x,
                                const Tensor& weight, float eps) override;
  absl::Status DoRmsNormBackward(const Tensor& d_x, const Tensor& d_weight, const Tensor& d_out,
                                 const Tensor& x, const Tensor& weight,
                                 const Tensor& inv_rms) override;
  absl::Status DoRope(const Tensor& x, const Tensor& cos, const Tensor& sin, int64_t pos_offset,
                      bool inverse) override;
  absl::Status DoAttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                  const Tensor& k, const Tensor& v, const IndexList& kv_map,
                                  float scale) override;
  absl::Status DoAttentionBackward(const Tensor& d_q, const Tensor& d_k, const Tensor& d_v,
                                   const Tensor& d_out, const Tensor& q, const Tensor& k,
                                   const Tensor& v, const Tensor& out, const Tensor& lse,
                                   const IndexList& kv_map, float scale) override;
  absl::Status DoSwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) override;
  absl::Status DoSwigluBackward(const Tensor& d_gate, const Tensor& d_up, const Tensor& d_out,
                                const Tensor& gate, const Tensor& up) override;
  absl::Status DoCrossEntropy(const Tensor& nll, const Tensor& d_logits, const Tensor& logits,
                              const Tensor& targets, const Tensor& weights) override;
  absl::Status DoAddBias(const Tensor& y, const Tensor& bias) override;
  absl::Status DoColumnSum(const Tensor& d_bias, const Tensor& d_y) override;
  absl::Status DoAbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) override;
  absl::Status DoAbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) override;
  absl::Status DoGatherRows(const Tensor& out, const Tensor& in, const IndexList& rows) override;
  absl::Status DoGatherCols(const Tensor& out, const Tensor& in, const IndexList& cols) override;
  absl::Status DoZeroRows(const Tensor& t, const IndexList& rows) override;
  absl::Status DoZeroCols(const Tensor& t, const IndexList& cols) override;

 private:
  CudaBackend() = default;

  gpu::Stream stream() const { return owner_->stream; }

  // Makes this backend's GPU current for the calling thread (it is per thread in CUDA, and a
  // process may drive several backends).
  absl::Status Activate(absl::string_view verb) {
    return CudaCheck(gpu::SetDevice(owner_->device), verb, {});
  }

  // At least `bytes` of device scratch, valid until the next call (all users are on the one
  // stream, so reuse is ordered). Grows by 1.5x to avoid reallocating for every new shape.
  absl::StatusOr<void*> Scratch(size_t bytes, absl::string_view verb,
                                cuda_internal::TensorList tensors);

  // cudaMallocAsync on the stream; on out-of-memory, waits for pending frees, hands the pool's
  // idle (possibly fragmented) memory back to the driver and tries once more.
  int AllocateOnStream(void** ptr, size_t bytes) {
    int e = gpu::MallocAsync(ptr, bytes, stream());
    if (!gpu::IsOutOfMemory(e)) return e;
    gpu::GetLastError();
    gpu::StreamSynchronize(stream());
    gpu::TrimPool(owner_->device);
    return gpu::MallocAsync(ptr, bytes, stream());
  }

  absl::Status CheckAttention(absl::string_view verb, int64_t dh, bool backward,
                              cuda_internal::TensorList tensors) const;

  std::shared_ptr<StreamOwner> owner_;
  gpu::DeviceInfo info_;
  gpu::BlasHandle blas_ = nullptr;
  void* blas_workspace_ = nullptr;
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  std::string name_;
};

absl::StatusOr<std::unique_ptr<Backend>> CudaBackend::Create(int index) {
  int count = 0;
  const int e = gpu::GetDeviceCount(&count);
  if (e != 0) {
    gpu::GetLastError();
    return absl::UnavailableError(absl::StrCat(
        "no usable CUDA device: cudaGetDeviceCount failed with ", gpu::ErrorName(e), " (",
        gpu::ErrorString(e), "); gisp's CUDA build needs an NVIDIA GPU and a driver for CUDA 13"));
  }
  if (index < 0 || index >= count) {
    return absl::UnavailableError(
        absl::StrCat("CUDA device ", index, " does not exist: found ", count, " CUDA device(s)"));
  }
  std::unique_ptr<CudaBackend> backend(new CudaBackend());
  backend->owner_ = std::make_shared<StreamOwner>();
  backend->owner_->device = index;
  const absl::string_view verb = "CreateCudaBackend";
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::SetDevice(index), verb, {}));
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::GetDeviceInfo(index, &backend->info_), verb, {}));
  const gpu::DeviceInfo& info = backend->info_;
  if (info.cc_major < 8) {
    return absl::UnavailableError(
        absl::StrCat("CUDA device ", index, " (", info.name, ") has compute capability ",
                     info.cc_major, ".", info.cc_minor, "; gisp's CUDA kernels need 8.0 or newer"));
  }
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::KeepPoolMemory(index), verb, {}));
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::StreamCreateNonBlocking(&backend->owner_->stream), verb, {}));
  const int alloc =
      gpu::MallocAsync(&backend->blas_workspace_, kBlasWorkspaceBytes, backend->stream());
  if (alloc != 0) {
    backend->blas_workspace_ = nullptr;
    return gpu::IsOutOfMemory(alloc) ? OutOfMemory(verb, kBlasWorkspaceBytes, {})
                                     : CudaCheck(alloc, verb, {});
  }
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::StreamSynchronize(backend->stream()), verb, {}));
  GISP_RETURN_IF_ERROR(BlasCheck(gpu::BlasCreate(backend->stream(), backend->blas_workspace_,
                                                 kBlasWorkspaceBytes, &backend->blas_),
                                 verb, {}));
  int runtime = 0, blas = 0;
  gpu::RuntimeVersion(&runtime);
  gpu::BlasVersion(backend->blas_, &blas);
  backend->name_ =
      absl::StrFormat("cuda:%d (%s, sm_%d%d, %.0f GiB, CUDA runtime %d.%d, cuBLAS %d)", index,
                      info.name, info.cc_major, info.cc_minor, info.total_memory / 1073741824.0,
                      runtime / 1000, (runtime % 1000) / 10, blas);
  return std::unique_ptr<Backend>(std::move(backend));
}

absl::StatusOr<void*> CudaBackend::Scratch(size_t bytes, absl::string_view verb,
                                           cuda_internal::TensorList tensors) {
  if (bytes <= scratch_bytes_) return scratch_;
  size_t want = std::max(bytes, scratch_bytes_ + scratch_bytes_ / 2);
  want = (want + kScratchGranule - 1) / kScratchGranule * kScratchGranule;
  if (scratch_ != nullptr) {
    GISP_RETURN_IF_ERROR(CudaCheck(gpu::FreeAsync(scratch_, stream()), verb, tensors));
    scratch_ = nullptr;
    scratch_bytes_ = 0;
  }
  void* p = nullptr;
  int e = gpu::MallocAsync(&p, want, stream());
  if (gpu::IsOutOfMemory(e)) {  // the growth margin may be what does not fit
    gpu::GetLastError();
    want = bytes;
    e = AllocateOnStream(&p, want);
  }
  if (gpu::IsOutOfMemory(e)) return OutOfMemory(absl::StrCat(verb, " (scratch)"), want, tensors);
  GISP_RETURN_IF_ERROR(CudaCheck(e, verb, tensors));
  scratch_ = p;
  scratch_bytes_ = want;
  return scratch_;
}

absl::Status CudaBackend::CheckAttention(absl::string_view verb, int64_t dh, bool backward,
                                         cuda_internal::TensorList tensors) const {
  if (dh > gpu::kMaxAttentionHeadDim) {
    return absl::UnimplementedError(absl::StrCat(verb, ": head size ", dh,
                                                 " exceeds the CUDA kernels' maximum of ",
                                                 gpu::kMaxAttentionHeadDim));
  }
  const int64_t smem = gpu::AttentionSharedBytes(dh, backward);
  if (smem > info_.max_shared_per_block_optin) {
    std::string shapes;
    for (const Tensor* t : tensors)
      absl::StrAppend(&shapes, shapes.empty() ? "" : ", ", t->DebugString());
    return absl::UnimplementedError(absl::StrCat(verb, " on ", shapes,
                                                 ": the kernel for head size ", dh, " needs ", smem,
                                                 " bytes of shared memory per block, ", info_.name,
                                                 " offers ", info_.max_shared_per_block_optin));
  }
  return absl::OkStatus();
}

// ---- Memory and transfers -------------------------------------------------------------------

absl::StatusOr<Tensor> CudaBackend::DoAllocate(Shape shape, DType dtype) {
  const size_t bytes = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);
  GISP_RETURN_IF_ERROR(Activate("Allocate"));
  void* p = nullptr;
  if (bytes > 0) {
    const int e = AllocateOnStream(&p, bytes);
    if (gpu::IsOutOfMemory(e)) {
      return OutOfMemory(absl::StrCat("Allocate ", DTypeName(dtype), ShapeToString(shape)), bytes,
                         {});
    }
    GISP_RETURN_IF_ERROR(
        CudaCheck(e, absl::StrCat("Allocate ", DTypeName(dtype), ShapeToString(shape)), {}));
  }
  std::shared_ptr<StreamOwner> owner = owner_;
  auto buffer = std::make_shared<Buffer>(device(), p, bytes,
                                         [owner](void* ptr) { FreeOnStream(owner, ptr); });
  return Tensor(std::move(buffer), 0, std::move(shape), dtype);
}

absl::StatusOr<MemoryInfo> CudaBackend::DoQueryMemory() {
  GISP_RETURN_IF_ERROR(Activate("QueryMemory"));
  size_t free_bytes = 0, total_bytes = 0, idle_bytes = 0;
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::MemGetInfo(&free_bytes, &total_bytes), "QueryMemory", {}));
  // The pool keeps freed blocks (KeepPoolMemory); they are free for our allocations.
  GISP_RETURN_IF_ERROR(
      CudaCheck(gpu::PoolIdleBytes(owner_->device, &idle_bytes), "QueryMemory", {}));
  MemoryInfo info;
  info.total_bytes = static_cast<int64_t>(total_bytes);
  info.free_bytes = static_cast<int64_t>(std::min(total_bytes, free_bytes + idle_bytes));
  return info;
}

absl::Status CudaBackend::DoUpload(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Activate("Upload"));
  const int64_t n = src.numel();
  if (src.dtype() == out.dtype()) {
    GISP_RETURN_IF_ERROR(CudaCheck(
        gpu::MemcpyAsync(out.raw(), src.raw(), src.bytes(), gpu::CopyKind::kHostToDevice, stream()),
        "Upload", {&out, &src}));
  } else if (n > 0) {
    // Raw chunks go to scratch and are converted on the device: a bf16 checkpoint crosses the
    // bus at half the bytes of f32, and the host does no per-element work.
    const size_t in_size = DTypeSize(src.dtype());
    const size_t out_size = DTypeSize(out.dtype());
    const int64_t chunk = static_cast<int64_t>(std::max<size_t>(1, kTransferChunkBytes / in_size));
    void* staging = nullptr;
    GISP_ASSIGN_OR_RETURN(staging, Scratch(static_cast<size_t>(std::min(n, chunk)) * in_size,
                                           "Upload", {&out, &src}));
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t count = std::min(chunk, n - begin);
      GISP_RETURN_IF_ERROR(
          CudaCheck(gpu::MemcpyAsync(staging, Bytes(src) + begin * in_size, count * in_size,
                                     gpu::CopyKind::kHostToDevice, stream()),
                    "Upload", {&out, &src}));
      GISP_RETURN_IF_ERROR(
          CudaCheck(gpu::Convert(Bytes(out) + begin * out_size, ToElem(out.dtype()), staging,
                                 ToElem(src.dtype()), count, stream()),
                    "Upload", {&out, &src}));
    }
  }
  // The caller may free or reuse `src` once we return; copies from page-locked memory are truly
  // asynchronous, so wait for them (this also reports any error of the transfer here).
  return CudaCheck(gpu::StreamSynchronize(stream()), "Upload", {&out, &src});
}

absl::Status CudaBackend::DoDownload(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Activate("Download"));
  const int64_t n = src.numel();
  if (src.dtype() == out.dtype()) {
    GISP_RETURN_IF_ERROR(CudaCheck(
        gpu::MemcpyAsync(out.raw(), src.raw(), src.bytes(), gpu::CopyKind::kDeviceToHost, stream()),
        "Download", {&out, &src}));
  } else if (n > 0) {
    const size_t in_size = DTypeSize(src.dtype());
    const size_t out_size = DTypeSize(out.dtype());
    const int64_t chunk = static_cast<int64_t>(std::max<size_t>(1, kTransferChunkBytes / out_size));
    void* staging = nullptr;
    GISP_ASSIGN_OR_RETURN(staging, Scratch(static_cast<size_t>(std::min(n, chunk)) * out_size,
                                           "Download", {&out, &src}));
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t count = std::min(chunk, n - begin);
      GISP_RETURN_IF_ERROR(
          CudaCheck(gpu::Convert(staging, ToElem(out.dtype()), Bytes(src) + begin * in_size,
                                 ToElem(src.dtype()), count, stream()),
                    "Download", {&out, &src}));
      GISP_RETURN_IF_ERROR(
          CudaCheck(gpu::MemcpyAsync(Bytes(out) + begin * out_size, staging, count * out_size,
                                     gpu::CopyKind::kDeviceToHost, stream()),
                    "Download", {&out, &src}));
    }
  }
  return CudaCheck(gpu::StreamSynchronize(stream()), "Download", {&out, &src});
}

absl::Status CudaBackend::DoCopy(const Tensor& out, const Tensor& src) {
  GISP_RETURN_IF_ERROR(Activate("Copy"));
  if (src.dtype() == out.dtype()) {
    if (out.raw() == src.raw()) return absl::OkStatus();
    return CudaCheck(gpu::MemcpyAsync(out.raw(), src.raw(), src.bytes(),
                                      gpu::CopyKind::kDeviceToDevice, stream()),
                     "Copy", {&out, &src});
  }
  return CudaCheck(gpu::Convert(out.raw(), ToElem(out.dtype()), src.raw(), ToElem(src.dtype()),
                                src.numel(), stream()),
                   "Copy", {&out, &src});
}

absl::Status CudaBackend::DoFill(const Tensor& out, float value) {
  GISP_RETURN_IF_ERROR(Activate("Fill"));
  if (out.numel() == 0) return absl::OkStatus();
  // The element's bit pattern, so one kernel fills every dtype (the base class only asks for
  // f32, but zeroing, the common case, is a memset for all of them).
  uint64_t pattern = 0;
  switch (out.dtype()) {
    case DType::kF32: {
      uint32_t bits;
      std::memcpy(&bits, &value, sizeof(bits));
      pattern = bits;
      break;
    }
    case DType::kF64: {
      const double wide = value;
      std::memcpy(&pattern, &wide, sizeof(pattern));
      break;
    }
    case DType::kBF16:
      pattern = F32ToBF16(value);
      break;
    case DType::kF16:
      pattern = F32ToF16(value);
      break;
    case DType::kI32:
      pattern = static_cast<uint32_t>(static_cast<int32_t>(value));
      break;
  }
  if (pattern == 0) {
    return CudaCheck(gpu::MemsetAsync(out.raw(), 0, out.bytes(), stream()), "Fill", {&out});
  }
  return CudaCheck(gpu::FillPattern(out.raw(), pattern, static_cast<int>(DTypeSize(out.dtype())),
                                    out.numel(), stream()),
                   "Fill", {&out});
}

absl::Status CudaBackend::DoSynchronize() {
  GISP_RETURN_IF_ERROR(Activate("Synchronize"));
  GISP_RETURN_IF_ERROR(CudaCheck(gpu::StreamSynchronize(stream()), "Synchronize", {}));
  return CudaCheck(gpu::GetLastError(), "Synchronize", {});
}

// ---- Dense linear algebra -------------------------------------------------------------------

absl::Status CudaBackend::DoGemm(const Tensor& out, const Tensor& a, bool trans_a, const Tensor& b,
                                 bool trans_b, float alpha, float beta) {
  GISP_RETURN_IF_ERROR(Activate("Gemm"));
  int64_t batch = 1;
  for (int i = 0; i < out.rank() - 2; ++i) batch *= out.dim(i);
  const int64_t m = out.dim(-2);
  const int64_t n = out.dim(-1);
  const int64_t k = trans_a ? a.dim(-2) : a.dim(-1);
  if (batch == 0 || m == 0 || n == 0) return absl::OkStatus();
  if (k == 0) {  // out = beta * out; the operands are empty (and may have no memory at all)
    if (beta == 1.0f) return absl::OkStatus();
    if (beta == 0.0f) {
      return CudaCheck(gpu::MemsetAsync(out.raw(), 0, out.bytes(), stream()), "Gemm",
                       {&out, &a, &b});
    }
    return CudaCheck(gpu::Axpy(out.f32(), beta - 1.0f, out.f32(), out.numel(), stream()), "Gemm",
                     {&out, &a, &b});
  }

  const void* pa = a.raw();
  const void* pb = b.raw();
  DType type = a.dtype();
  if (a.dtype() != b.dtype()) {
    // Mixed operands (f32 activations x 16-bit weights): convert the f32 one to the other's
    // 16-bit type and run the tensor-core GEMM with f32 accumulation. bf16 x f16 (no model
    // mixes them) goes through f32 instead.
    const bool a_to_b = a.dtype() == DType::kF32;
    const bool b_to_a = b.dtype() == DType::kF32;
    type = a_to_b ? b.dtype() : (b_to_a ? a.dtype() : DType::kF32);
    const size_t es = DTypeSize(type);
    const size_t a_bytes = a.dtype() == type ? 0 : static_cast<size_t>(a.numel()) * es;
    const size_t a_aligned = (a_bytes + 255) / 256 * 256;
    const size_t b_bytes = b.dtype() == type ? 0 : static_cast<size_t>(b.numel()) * es;
    void* scratch = nullptr;
    GISP_ASSIGN_OR_RETURN(scratch, Scratch(a_aligned + b_bytes, "Gemm", {&out, &a, &b}));
    if (a_bytes > 0) {
      GISP_RETURN_IF_ERROR(CudaCheck(
          gpu::Convert(scratch, ToElem(type), a.raw(), ToElem(a.dtype()), a.numel(), stream()),
          "Gemm", {&out, &a, &b}));
      pa = scratch;
    }
    if (b_bytes > 0) {
      void* dst = static_cast<char*>(scratch) + a_aligned;
      GISP_RETURN_IF_ERROR(CudaCheck(
          gpu::Convert(dst, ToElem(type), b.raw(), ToElem(b.dtype()), b.numel(), stream()), "Gemm",
          {&out, &a, &b}));
      pb = dst;
    }
  }
  return BlasCheck(gpu::RowMajorGemm(blas_, ToElem(type), pa, trans_a, pb, trans_b, out.f32(),
                                     batch, m, n, k, alpha, beta),
                   "Gemm", {&out, &a, &b});
}

// ---- Elementwise, embedding, normalization --------------------------------------------------

absl::Status CudaBackend::DoAdd(const Tensor& out, const Tensor& a, const Tensor& b) {
  GISP_RETURN_IF_ERROR(Activate("Add"));
  return CudaCheck(gpu::Add(out.f32(), a.f32(), b.f32(), out.numel(), stream()), "Add",
                   {&out, &a, &b});
}

absl::Status CudaBackend::DoAxpy(const Tensor& y, float alpha, const Tensor& x) {
  GISP_RETURN_IF_ERROR(Activate("Axpy"));
  return CudaCheck(gpu::Axpy(y.f32(), alpha, x.f32(), y.numel(), stream()), "Axpy", {&y, &x});
}

absl::Status CudaBackend::DoEmbeddingForward(const Tensor& out, const Tensor& table,
                                             const Tensor& ids) {
  GISP_RETURN_IF_ERROR(Activate("EmbeddingForward"));
  return CudaCheck(gpu::EmbeddingForward(out.f32(), table.raw(), ToElem(table.dtype()), ids.i32(),
                                         out.dim(0), out.dim(1), stream()),
                   "EmbeddingForward", {&out, &table, &ids});
}

absl::Status CudaBackend::DoEmbeddingBackward(const Tensor& d_table, const Tensor& d_out,
                                              const Tensor& ids) {
  GISP_RETURN_IF_ERROR(Activate("EmbeddingBackward"));
  return CudaCheck(gpu::EmbeddingBackward(d_table.f32(), d_out.f32(), ids.i32(), d_out.dim(0),
                                          d_out.dim(1), stream()),
                   "EmbeddingBackward", {&d_table, &d_out, &ids});
}

absl::Status CudaBackend::DoRmsNormForward(const Tensor& out, const Tensor& inv_rms,
                                           const Tensor& x, const Tensor& weight, float eps) {
  GISP_RETURN_IF_ERROR(Activate("RmsNormForward"));
  return CudaCheck(gpu::RmsNormForward(out.f32(), inv_rms.f32(), x.f32(), weight.f32(), eps,
                                       x.dim(0), x.dim(1), stream()),
                   "RmsNormForward", {&out, &inv_rms, &x, &weight});
}

absl::Status CudaBackend::DoRmsNormBackward(const Tensor& d_x, const Tensor& d_weight,
                                            const Tensor& d_out, const Tensor& x,
                                            const Tensor& weight, const Tensor& inv_rms) {
  GISP_RETURN_IF_ERROR(Activate("RmsNormBackward"));
  const int64_t n = x.dim(0), d = x.dim(1);
  double* partials = nullptr;
  if (!d_weight.empty()) {
    void* scratch = nullptr;
    GISP_ASSIGN_OR_RETURN(scratch, Scratch(static_cast<size_t>(gpu::ColumnReduceScratchBytes(n, d)),
                                           "RmsNormBackward", {&d_x, &d_weight, &x}));
    partials = static_cast<double*>(scratch);
  }
  return CudaCheck(
      gpu::RmsNormBackward(d_x.f32(), d_weight.empty() ? nullptr : d_weight.f32(), partials,
                           d_out.f32(), x.f32(), weight.f32(), inv_rms.f32(), n, d, stream()),
      "RmsNormBackward", {&d_x, &d_weight, &d_out, &x, &weight, &inv_rms});
}

absl::Status CudaBackend::DoRope(const Tensor& x, const Tensor& cos, const Tensor& sin,
                                 int64_t pos_offset, bool inverse) {
  GISP_RETURN_IF_ERROR(Activate("Rope"));
  return CudaCheck(gpu::Rope(x.f32(), cos.f32(), sin.f32(), pos_offset, inverse, x.dim(0), x.dim(1),
                             x.dim(2), x.dim(3), stream()),
                   "Rope", {&x, &cos, &sin});
}

// ---- Attention ------------------------------------------------------------------------------

absl::Status CudaBackend::DoAttentionForward(const Tensor& out, const Tensor& lse, const Tensor& q,
                                             const Tensor& k, const Tensor& v,
                                             const IndexList& kv_map, float scale) {
  GISP_RETURN_IF_ERROR(Activate("AttentionForward"));
  gpu::AttentionShape s;
  s.b = q.dim(0);
  s.tq = q.dim(1);
  s.hq = q.dim(2);
  s.dh = q.dim(3);
  s.tk = k.dim(1);
  s.kv = k.dim(2);
  GISP_RETURN_IF_ERROR(CheckAttention("AttentionForward", s.dh, false, {&q, &k, &v}));
  return CudaCheck(gpu::AttentionForward(out.f32(), lse.f32(), q.f32(), k.f32(), v.f32(),
                                         Indices(kv_map), s, scale, stream()),
                   "AttentionForward", {&out, &lse, &q, &k, &v});
}

absl::Status CudaBackend::DoAttentionBackward(const Tensor& d_q, const Tensor& d_k,
                                              const Tensor& d_v, const Tensor& d_out,
                                              const Tensor& q, const Tensor& k, const Tensor& v,
                                              const Tensor& out, const Tensor& lse,
                                              const IndexList& kv_map, float scale) {
  GISP_RETURN_IF_ERROR(Activate("AttentionBackward"));
  gpu::AttentionShape s;
  s.b = q.dim(0);
  s.tq = q.dim(1);
  s.hq = q.dim(2);
  s.dh = q.dim(3);
  s.tk = k.dim(1);
  s.kv = k.dim(2);
  GISP_RETURN_IF_ERROR(CheckAttention("AttentionBackward", s.dh, true, {&q, &k, &v}));
  void* row_dot = nullptr;
  GISP_ASSIGN_OR_RETURN(row_dot, Scratch(static_cast<size_t>(lse.numel()) * sizeof(float),
                                         "AttentionBackward", {&q, &k, &v}));
  return CudaCheck(
      gpu::AttentionBackward(d_q.f32(), d_k.f32(), d_v.f32(), static_cast<float*>(row_dot),
                             d_out.f32(), q.f32(), k.f32(), v.f32(), out.f32(), lse.f32(),
                             Indices(kv_map), s, scale, stream()),
      "AttentionBackward", {&d_q, &d_k, &d_v, &d_out, &q, &k, &v, &out, &lse});
}

// ---- SwiGLU, loss, bias ---------------------------------------------------------------------

absl::Status CudaBackend::DoSwigluForward(const Tensor& out, const Tensor& gate, const Tensor& up) {
  GISP_RETURN_IF_ERROR(Activate("SwigluForward"));
  return CudaCheck(gpu::SwigluForward(out.f32(), gate.f32(), up.f32(), out.numel(), stream()),
                   "SwigluForward", {&out, &gate, &up});
}

absl::Status CudaBackend::DoSwigluBackward(const Tensor& d_gate, const Tensor& d_up,
                                           const Tensor& d_out, const Tensor& gate,
                                           const Tensor& up) {
  GISP_RETURN_IF_ERROR(Activate("SwigluBackward"));
  return CudaCheck(gpu::SwigluBackward(d_gate.f32(), d_up.f32(), d_out.f32(), gate.f32(), up.f32(),
                                       gate.numel(), stream()),
                   "SwigluBackward", {&d_gate, &d_up, &d_out, &gate, &up});
}

absl::Status CudaBackend::DoCrossEntropy(const Tensor& nll, const Tensor& d_logits,
                                         const Tensor& logits, const Tensor& targets,
                                         const Tensor& weights) {
  GISP_RETURN_IF_ERROR(Activate("CrossEntropy"));
  return CudaCheck(
      gpu::CrossEntropy(nll.f32(), d_logits.empty() ? nullptr : d_logits.f32(), logits.f32(),
                        targets.i32(), weights.f32(), logits.dim(0), logits.dim(1), stream()),
      "CrossEntropy", {&nll, &d_logits, &logits, &targets, &weights});
}

absl::Status CudaBackend::DoAddBias(const Tensor& y, const Tensor& bias) {
  GISP_RETURN_IF_ERROR(Activate("AddBias"));
  return CudaCheck(gpu::AddBias(y.f32(), bias.f32(), Rows(y), Cols(y), stream()), "AddBias",
                   {&y, &bias});
}

absl::Status CudaBackend::DoColumnSum(const Tensor& d_bias, const Tensor& d_y) {
  GISP_RETURN_IF_ERROR(Activate("ColumnSum"));
  const int64_t rows = Rows(d_y), cols = Cols(d_y);
  void* scratch = nullptr;
  GISP_ASSIGN_OR_RETURN(
      scratch, Scratch(static_cast<size_t>(gpu::ColumnReduceScratchBytes(rows, cols)), "ColumnSum",
                       {&d_bias, &d_y}));
  return CudaCheck(
      gpu::ColumnSum(d_bias.f32(), static_cast<double*>(scratch), d_y.f32(), rows, cols, stream()),
      "ColumnSum", {&d_bias, &d_y});
}

// ---- Saliency -------------------------------------------------------------------------------

absl::Status CudaBackend::DoAbsProdRowSum(const Tensor& out, const Tensor& w, const Tensor& g) {
  GISP_RETURN_IF_ERROR(Activate("AbsProdRowSum"));
  return CudaCheck(gpu::AbsProdRowSum(out.data<double>(), w.raw(), ToElem(w.dtype()), g.f32(),
                                      Rows(w), Cols(w), stream()),
                   "AbsProdRowSum", {&out, &w, &g});
}

absl::Status CudaBackend::DoAbsProdColSum(const Tensor& out, const Tensor& w, const Tensor& g) {
  GISP_RETURN_IF_ERROR(Activate("AbsProdColSum"));
  const int64_t rows = Rows(w), cols = Cols(w);
  void* scratch = nullptr;
  GISP_ASSIGN_OR_RETURN(scratch,
                        Scratch(static_cast<size_t>(gpu::ColumnReduceScratchBytes(rows, cols)),
                                "AbsProdColSum", {&out, &w, &g}));
  return CudaCheck(gpu::AbsProdColSum(out.data<double>(), static_cast<double*>(scratch), w.raw(),
                                      ToElem(w.dtype()), g.f32(), rows, cols, stream()),
                   "AbsProdColSum", {&out, &w, &g});
}

// ---- Masking and compaction -----------------------------------------------------------------

absl::Status CudaBackend::DoGatherRows(const Tensor& out, const Tensor& in, const IndexList& rows) {
  GISP_RETURN_IF_ERROR(Activate("GatherRows"));
  return CudaCheck(gpu::GatherRows(out.raw(), in.raw(), Indices(rows), rows.size(), Cols(in),
                                   static_cast<int>(DTypeSize(in.dtype())), stream()),
                   "GatherRows", {&out, &in, &rows.values});
}

absl::Status CudaBackend::DoGatherCols(const Tensor& out, const Tensor& in, const IndexList& cols) {
  GISP_RETURN_IF_ERROR(Activate("GatherCols"));
  return CudaCheck(gpu::GatherCols(out.raw(), in.raw(), Indices(cols), in.dim(0), cols.size(),
                                   in.dim(1), static_cast<int>(DTypeSize(in.dtype())), stream()),
                   "GatherCols", {&out, &in, &cols.values});
}

absl::Status CudaBackend::DoZeroRows(const Tensor& t, const IndexList& rows) {
  GISP_RETURN_IF_ERROR(Activate("ZeroRows"));
  return CudaCheck(gpu::ZeroRows(t.raw(), Indices(rows), rows.size(), Cols(t),
                                 static_cast<int>(DTypeSize(t.dtype())), stream()),
                   "ZeroRows", {&t, &rows.values});
}

absl::Status CudaBackend::DoZeroCols(const Tensor& t, const IndexList& cols) {
  GISP_RETURN_IF_ERROR(Activate("ZeroCols"));
  return CudaCheck(gpu::ZeroCols(t.raw(), Indices(cols), t.dim(0), cols.size(), t.dim(1),
                                 static_cast<int>(DTypeSize(t.dtype())), stream()),
                   "ZeroCols", {&t, &cols.values});
}

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int index) {
  return CudaBackend::Create(index);
}

}  // namespace gisp
