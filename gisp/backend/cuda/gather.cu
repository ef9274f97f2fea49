// Gathers and zeroing move raw elements, so one unsigned integer type per element size covers
// every dtype. Duplicate indices in the zeroing lists only write the same zero twice.
#include <type_traits>

#include "gisp/backend/cuda/common.cuh"
#include "gisp/backend/cuda/gather.h"

namespace gisp {
namespace gpu {
namespace {

template <typename T>
__global__ void GatherRowsKernel(T* out, const T* in, const int32_t* rows, int64_t c,
                                 int64_t total) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / c;
    out[i] = in[static_cast<int64_t>(rows[row]) * c + (i - row * c)];
  }
}

template <typename T>
__global__ void GatherColsKernel(T* out, const T* in, const int32_t* cols, int64_t n, int64_t c,
                                 int64_t total) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / n;
    out[i] = in[row * c + cols[i - row * n]];
  }
}

template <typename T>
__global__ void ZeroRowsKernel(T* t, const int32_t* rows, int64_t c, int64_t total) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t k = i / c;
    t[static_cast<int64_t>(rows[k]) * c + (i - k * c)] = T(0);
  }
}

template <typename T>
__global__ void ZeroColsKernel(T* t, const int32_t* cols, int64_t n, int64_t c, int64_t total) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / n;
    t[row * c + cols[i - row * n]] = T(0);
  }
}

// Calls fn with a null pointer of the unsigned type as wide as one element.
template <typename Fn>
int BySize(int elem_bytes, Fn fn) {
  switch (elem_bytes) {
    case 2:
      fn(static_cast<uint16_t*>(nullptr));
      break;
    case 4:
      fn(static_cast<uint32_t*>(nullptr));
      break;
    case 8:
      fn(static_cast<uint64_t*>(nullptr));
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return LaunchStatus();
}

}  // namespace

int GatherRows(void* out, const void* in, const int32_t* rows, int64_t n, int64_t c, int elem_bytes,
               Stream stream) {
  const int64_t total = n * c;
  if (total == 0) return 0;
  return BySize(elem_bytes, [&](auto* tag) {
    using T = typename std::remove_pointer<decltype(tag)>::type;
    GatherRowsKernel<<<GridFor(total), kThreads, 0, stream>>>(
        static_cast<T*>(out), static_cast<const T*>(in), rows, c, total);
  });
}

int GatherCols(void* out, const void* in, const int32_t* cols, int64_t r, int64_t n, int64_t c,
               int elem_bytes, Stream stream) {
  const int64_t total = r * n;
  if (total == 0) return 0;
  return BySize(elem_bytes, [&](auto* tag) {
    using T = typename std::remove_pointer<decltype(tag)>::type;
    GatherColsKernel<<<GridFor(total), kThreads, 0, stream>>>(
        static_cast<T*>(out), static_cast<const T*>(in), cols, n, c, total);
  });
}

int ZeroRows(void* t, const int32_t* rows, int64_t n, int64_t c, int elem_bytes, Stream stream) {
  const int64_t total = n * c;
  if (total == 0) return 0;
  return BySize(elem_bytes, [&](auto* tag) {
    using T = typename std::remove_pointer<decltype(tag)>::type;
    ZeroRowsKernel<<<GridFor(total), kThreads, 0, stream>>>(static_cast<T*>(t), rows, c, total);
  });
}

int ZeroCols(void* t, const int32_t* cols, int64_t r, int64_t n, int64_t c, int elem_bytes,
             Stream stream) {
  const int64_t total = r * n;
  if (total == 0) return 0;
  return BySize(elem_bytes, [&](auto* tag) {
    using T = typename std::remove_pointer<decltype(tag)>::type;
    ZeroColsKernel<<<GridFor(total), kThreads, 0, stream>>>(static_cast<T*>(t), cols, n, c, total);
  });
}

}  // namespace gpu
}  // namespace gisp
