#include "gisp/backend/cuda/cuda_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/backend/cuda/blas.h"
#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace cuda_internal {
namespace {

std::string Describe(TensorList tensors) {
  std::string out;
  for (const Tensor* t : tensors) {
    if (t == nullptr || t->empty()) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", t->DebugString());
  }
  return out.empty() ? std::string("no tensors") : out;
}

std::string MemorySummary() {
  size_t free_bytes = 0, total_bytes = 0;
  if (gpu::MemGetInfo(&free_bytes, &total_bytes) != 0) {
    gpu::GetLastError();
    return "device memory unknown";
  }
  int device = -1;
  gpu::GetDevice(&device);
  return absl::StrFormat("cuda:%d has %.2f GiB free of %.2f GiB (%d of %d bytes)", device,
                         free_bytes / 1073741824.0, total_bytes / 1073741824.0, free_bytes,
                         total_bytes);
}

}  // namespace

absl::Status CudaCheck(int error, absl::string_view verb, TensorList tensors) {
  if (error == 0) return absl::OkStatus();
  gpu::GetLastError();  // clear it, so a later check does not report it again
  const std::string message =
      absl::StrCat(verb, " on ", Describe(tensors), ": CUDA error ", gpu::ErrorName(error), " (",
                   gpu::ErrorString(error), ")");
  if (gpu::IsOutOfMemory(error)) {
    return absl::ResourceExhaustedError(absl::StrCat(message, "; ", MemorySummary()));
  }
  return absl::InternalError(message);
}

absl::Status BlasCheck(int status, absl::string_view verb, TensorList tensors) {
  if (status == 0) return absl::OkStatus();
  if (gpu::BlasIsOutOfMemory(status)) {
    return absl::ResourceExhaustedError(absl::StrCat(verb, " on ", Describe(tensors),
                                                     ": cuBLAS could not allocate device memory; ",
                                                     MemorySummary()));
  }
  return absl::InternalError(absl::StrCat(verb, " on ", Describe(tensors), ": cuBLAS error ",
                                          status, " (", gpu::BlasStatusString(status), ")"));
}

absl::Status OutOfMemory(absl::string_view verb, size_t requested, TensorList tensors) {
  gpu::GetLastError();
  return absl::ResourceExhaustedError(
      absl::StrFormat("%s on %s: out of GPU memory allocating %d bytes (%.2f GiB); %s", verb,
                      Describe(tensors), requested, requested / 1073741824.0, MemorySummary()));
}

}  // namespace cuda_internal
}  // namespace gisp
