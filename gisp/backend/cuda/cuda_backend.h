// The CUDA backend class, shared by its three source files (and by nothing else: the rest of
// gisp reaches it through CreateCudaBackend in backend.h):
//  * cuda_backend.cc: creation (the factory), destruction, device checks;
//  * cuda_memory.cc: allocation, scratch, transfers, fill, synchronization;
//  * cuda_ops.cc: the compute verbs (GEMM, kernels).
//
// One non-blocking stream, a cuBLAS handle bound to it with an explicit workspace, and a
// growable scratch buffer, all owned by the backend object. Every hook queues its work on the
// stream and returns; Download and Upload synchronize, Synchronize reports deferred device
// errors. Kernels live in the .cu files next to this one and are reached through plain C++
// launchers (runtime.h explains why no CUDA header is included here).
//
// Memory comes from the device's stream-ordered pool (cudaMallocAsync / cudaFreeAsync on the
// backend's stream). Buffers may outlive the backend object, so their deleters share ownership
// of the stream (StreamOwner), which is destroyed after the last of them.
#ifndef GISP_BACKEND_CUDA_CUDA_BACKEND_H_
#define GISP_BACKEND_CUDA_CUDA_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/backend/backend.h"
#include "gisp/backend/cuda/blas.h"
#include "gisp/backend/cuda/cuda_status.h"
#include "gisp/backend/cuda/runtime.h"
#include "gisp/base/dtype.h"
#include "gisp/tensor/tensor.h"

namespace gisp {
namespace cuda_internal {

inline gpu::ElemType ToElem(DType dtype) {
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
inline int64_t Rows(const Tensor& t) { return t.dim(0); }
inline int64_t Cols(const Tensor& t) { return t.rank() == 2 ? t.dim(1) : 1; }

inline const int32_t* Indices(const IndexList& list) {
  return list.values.empty() ? nullptr : list.values.i32();
}

inline char* Bytes(const Tensor& t) { return static_cast<char*>(t.raw()); }

// Makes `device` current for the calling thread and restores the previous device when it goes
// out of scope. For the destructors and deleters, which run on whatever thread drops the last
// reference and must not leave that thread pointed at another GPU. Errors are ignored.
class ScopedDevice {
 public:
  explicit ScopedDevice(int device);
  ~ScopedDevice();
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;

 private:
  int previous_ = -1;
  bool restore_ = false;
};

// The device and stream shared by the backend and the deleters of every buffer it allocated.
struct StreamOwner {
  int device = 0;
  gpu::Stream stream = nullptr;

  StreamOwner() = default;
  StreamOwner(const StreamOwner&) = delete;
  StreamOwner& operator=(const StreamOwner&) = delete;
  ~StreamOwner();
};

// Buffer deleter: frees in stream order on the owning stream. Must not throw or abort; errors
// (for example a runtime already unloading at process exit) are dropped.
void FreeOnStream(const std::shared_ptr<StreamOwner>& owner, void* ptr) noexcept;

class CudaBackend final : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<Backend>> Create(int index);

  ~CudaBackend() override;

  Device device() const override { return Device::Cuda(owner_->device); }
  std::string name() const override { return name_; }
  bool SupportsComputeDType(DType dtype) const override { return dtype == DType::kF32; }
  bool SupportsStorageDType(DType dtype) const override {
    return dtype == DType::kF32 || dtype == DType::kBF16 || dtype == DType::kF16;
  }

  // The GPU and the stream every verb queues on, for the device all-reduce
  // (nccl_all_reduce.cc), which queues its collectives on the same stream.
  int device_index() const { return owner_->device; }
  gpu::Stream stream() const { return owner_->stream; }

 protected:
  // cuda_memory.cc
  absl::StatusOr<Tensor> DoAllocate(Shape shape, DType dtype) override;
  absl::StatusOr<MemoryInfo> DoQueryMemory() override;
  absl::Status DoUpload(const Tensor& out, const Tensor& src) override;
  absl::Status DoDownload(const Tensor& out, const Tensor& src) override;
  absl::Status DoCopy(const Tensor& out, const Tensor& src) override;
  absl::Status DoFill(const Tensor& out, float value) override;
  absl::Status DoSynchronize() override;

  // cuda_ops.cc
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

  // Makes this backend's GPU current for the calling thread (it is per thread in CUDA, and a
  // process may drive several backends).
  absl::Status Activate(absl::string_view verb) {
    return CudaCheck(gpu::SetDevice(owner_->device), verb, {});
  }

  // At least `bytes` of device scratch, valid until the next call (all users are on the one
  // stream, so reuse is ordered, and a replaced buffer is freed in stream order too). Grows by
  // 1.5x to avoid reallocating for every new shape. cuda_memory.cc.
  absl::StatusOr<void*> Scratch(size_t bytes, absl::string_view verb, TensorList tensors);

  // cudaMallocAsync on the stream; on out-of-memory, waits for pending frees, hands the pool's
  // idle (possibly fragmented) memory back to the driver and tries once more. cuda_memory.cc.
  int AllocateOnStream(void** ptr, size_t bytes);

  // Head size and shared memory of the attention kernels, and the grid limits of their launch.
  // cuda_backend.cc.
  absl::Status CheckAttention(absl::string_view verb, const Tensor& q, const Tensor& k,
                              bool backward) const;

  std::shared_ptr<StreamOwner> owner_;
  gpu::DeviceInfo info_;
  gpu::BlasHandle blas_ = nullptr;
  void* blas_workspace_ = nullptr;
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  std::string name_;
};

}  // namespace cuda_internal
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_CUDA_BACKEND_H_
