// Host wrappers over the CUDA runtime; see runtime.h for why they exist.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>

#include "gisp/backend/cuda/runtime.h"

namespace gisp {
namespace gpu {

const char* ErrorName(int error) { return cudaGetErrorName(static_cast<cudaError_t>(error)); }

const char* ErrorString(int error) { return cudaGetErrorString(static_cast<cudaError_t>(error)); }

bool IsOutOfMemory(int error) { return error == cudaErrorMemoryAllocation; }

int GetLastError() { return cudaGetLastError(); }

int GetDeviceCount(int* count) { return cudaGetDeviceCount(count); }

int SetDevice(int device) { return cudaSetDevice(device); }

int GetDevice(int* device) { return cudaGetDevice(device); }

int RuntimeVersion(int* version) { return cudaRuntimeGetVersion(version); }

int DriverVersion(int* version) { return cudaDriverGetVersion(version); }

int GetDeviceInfo(int device, DeviceInfo* info) {
  cudaDeviceProp prop;
  cudaError_t e = cudaGetDeviceProperties(&prop, device);
  if (e != cudaSuccess) return e;
  std::strncpy(info->name, prop.name, sizeof(info->name) - 1);
  info->name[sizeof(info->name) - 1] = '\0';
  info->cc_major = prop.major;
  info->cc_minor = prop.minor;
  info->sm_count = prop.multiProcessorCount;
  info->max_shared_per_block_optin = static_cast<int64_t>(prop.sharedMemPerBlockOptin);
  info->total_memory = static_cast<int64_t>(prop.totalGlobalMem);
  return cudaSuccess;
}

int StreamCreateNonBlocking(Stream* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking);
}

int StreamDestroy(Stream stream) { return cudaStreamDestroy(stream); }

int StreamSynchronize(Stream stream) { return cudaStreamSynchronize(stream); }

int MallocAsync(void** ptr, size_t bytes, Stream stream) {
  return cudaMallocAsync(ptr, bytes, stream);
}

int FreeAsync(void* ptr, Stream stream) { return cudaFreeAsync(ptr, stream); }

int MemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  return cudaMemGetInfo(free_bytes, total_bytes);
}

int KeepPoolMemory(int device) {
  cudaMemPool_t pool;
  cudaError_t e = cudaDeviceGetDefaultMemPool(&pool, device);
  if (e != cudaSuccess) return e;
  uint64_t threshold = UINT64_MAX;
  return cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
}

int PoolIdleBytes(int device, size_t* bytes) {
  *bytes = 0;
  cudaMemPool_t pool;
  cudaError_t e = cudaDeviceGetDefaultMemPool(&pool, device);
  if (e != cudaSuccess) return e;
  uint64_t reserved = 0, used = 0;
  e = cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved);
  if (e != cudaSuccess) return e;
  e = cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &used);
  if (e != cudaSuccess) return e;
  *bytes = reserved > used ? static_cast<size_t>(reserved - used) : 0;
  return cudaSuccess;
}

int TrimPool(int device) {
  cudaMemPool_t pool;
  cudaError_t e = cudaDeviceGetDefaultMemPool(&pool, device);
  if (e != cudaSuccess) return e;
  return cudaMemPoolTrimTo(pool, 0);
}

int MemsetAsync(void* ptr, int value, size_t bytes, Stream stream) {
  return cudaMemsetAsync(ptr, value, bytes, stream);
}

int MemcpyAsync(void* dst, const void* src, size_t bytes, CopyKind kind, Stream stream) {
  cudaMemcpyKind k = cudaMemcpyDeviceToDevice;
  switch (kind) {
    case CopyKind::kHostToDevice:
      k = cudaMemcpyHostToDevice;
      break;
    case CopyKind::kDeviceToHost:
      k = cudaMemcpyDeviceToHost;
      break;
    case CopyKind::kDeviceToDevice:
      k = cudaMemcpyDeviceToDevice;
      break;
  }
  return cudaMemcpyAsync(dst, src, bytes, k, stream);
}

}  // namespace gpu
}  // namespace gisp
