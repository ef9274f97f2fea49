// Fill, Add, Axpy and Scale: grid-stride loops, one element per iteration.
#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/elementwise.h"

namespace gisp {
namespace gpu {
namespace {

template <typename T>
__global__ void FillKernel(T* out, T value, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = value;
  }
}

__global__ void AddKernel(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = a[i] + b[i];
  }
}

__global__ void AxpyKernel(float* y, float alpha, const float* x, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] += alpha * x[i];
  }
}

__global__ void ScaleKernel(float* y, float alpha, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] *= alpha;
  }
}

}  // namespace

int FillPattern(void* out, uint64_t pattern, int elem_bytes, int64_t n, Stream stream) {
  if (n == 0) return 0;
  switch (elem_bytes) {
    case 2:
      FillKernel<<<GridFor(n), kThreads, 0, stream>>>(static_cast<uint16_t*>(out),
                                                      static_cast<uint16_t>(pattern), n);
      break;
    case 4:
      FillKernel<<<GridFor(n), kThreads, 0, stream>>>(static_cast<uint32_t*>(out),
                                                      static_cast<uint32_t>(pattern), n);
      break;
    case 8:
      FillKernel<<<GridFor(n), kThreads, 0, stream>>>(static_cast<uint64_t*>(out), pattern, n);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return LaunchStatus();
}

int Add(float* out, const float* a, const float* b, int64_t n, Stream stream) {
  if (n == 0) return 0;
  AddKernel<<<GridFor(n), kThreads, 0, stream>>>(out, a, b, n);
  return LaunchStatus();
}

int Axpy(float* y, float alpha, const float* x, int64_t n, Stream stream) {
  if (n == 0) return 0;
  AxpyKernel<<<GridFor(n), kThreads, 0, stream>>>(y, alpha, x, n);
  return LaunchStatus();
}

int Scale(float* y, float alpha, int64_t n, Stream stream) {
  if (n == 0) return 0;
  ScaleKernel<<<GridFor(n), kThreads, 0, stream>>>(y, alpha, n);
  return LaunchStatus();
}

}  // namespace gpu
}  // namespace gisp
