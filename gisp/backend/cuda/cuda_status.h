// CUDA and cuBLAS error codes -> absl::Status, naming the verb and the tensors involved.
#ifndef GISP_BACKEND_CUDA_CUDA_STATUS_H_
#define GISP_BACKEND_CUDA_CUDA_STATUS_H_

#include <cstddef>
#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gisp/tensor/tensor.h"

namespace gisp {
namespace cuda_internal {

using TensorList = std::initializer_list<const Tensor*>;

// OK for cudaSuccess; otherwise clears the runtime's last error and returns ResourceExhausted
// for cudaErrorMemoryAllocation (with the device's free/total memory) or Internal for anything
// else, as "<verb> on <tensors>: CUDA error <name> (<description>)".
absl::Status CudaCheck(int error, absl::string_view verb, TensorList tensors);

// The same for a cublasStatus_t value (CUBLAS_STATUS_ALLOC_FAILED is ResourceExhausted).
absl::Status BlasCheck(int status, absl::string_view verb, TensorList tensors);

// ResourceExhausted for a failed allocation of `requested` bytes, with the free/total memory.
absl::Status OutOfMemory(absl::string_view verb, size_t requested, TensorList tensors);

}  // namespace cuda_internal
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_CUDA_STATUS_H_
