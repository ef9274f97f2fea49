// Thin host-side wrappers over the CUDA runtime, in plain C++ types.
//
// Why this layer exists: cuda_backend.cc is compiled by Bazel's gcc toolchain, and Bazel 4.2.3
// rejects any include path outside the execution root ("The include path
// '/usr/local/cuda/include' references a path outside of the execution root"). So no file that
// Bazel compiles may include a CUDA header. Everything that needs one is compiled by nvcc in the
// genrule (runtime.cu, blas.cu and the kernels) and exposed through headers like this one, whose
// only CUDA-flavoured type is the opaque stream pointer.
//
// Error codes: every function returning `int` returns a cudaError_t value (0 = success) unless its
// comment says otherwise.
#ifndef GISP_BACKEND_CUDA_RUNTIME_H_
#define GISP_BACKEND_CUDA_RUNTIME_H_

#include <cstddef>
#include <cstdint>

struct CUstream_st;  // cudaStream_t is `CUstream_st*`

namespace gisp {
namespace gpu {

using Stream = CUstream_st*;

// Element types the kernels read and write (mapped from gisp::DType by the backend, so the .cu
// files need no gisp/base headers and hence no absl).
enum class ElemType : int { kF32 = 0, kBF16 = 1, kF16 = 2, kF64 = 3, kI32 = 4 };

// Error reporting.
const char* ErrorName(int error);    // "cudaErrorMemoryAllocation"
const char* ErrorString(int error);  // "out of memory"
bool IsOutOfMemory(int error);
// Returns and clears the calling thread's last runtime error (sticky errors stay).
int GetLastError();

// Devices.
int GetDeviceCount(int* count);
int SetDevice(int device);
int GetDevice(int* device);
int RuntimeVersion(int* version);
int DriverVersion(int* version);

struct DeviceInfo {
  char name[256] = {0};
  int cc_major = 0;
  int cc_minor = 0;
  int sm_count = 0;
  int64_t max_shared_per_block_optin = 0;  // bytes of dynamic shared memory a kernel may opt into
  int64_t total_memory = 0;
};
int GetDeviceInfo(int device, DeviceInfo* info);

// Streams.
int StreamCreateNonBlocking(Stream* stream);
int StreamDestroy(Stream stream);
int StreamSynchronize(Stream stream);

// Memory. Allocations are stream ordered (cudaMallocAsync / cudaFreeAsync on the device's
// default memory pool).
int MallocAsync(void** ptr, size_t bytes, Stream stream);
int FreeAsync(void* ptr, Stream stream);
int MemGetInfo(size_t* free_bytes, size_t* total_bytes);
// Lets the default pool of `device` keep freed memory instead of returning it to the driver at
// every synchronization (the default threshold 0 makes each training step re-map its memory).
int KeepPoolMemory(int device);
// Bytes the default pool of `device` holds that no live allocation uses: free for our purposes.
int PoolIdleBytes(int device, size_t* bytes);
// Returns the default pool's idle memory of `device` to the driver (after an out-of-memory
// error: the idle blocks may be too fragmented for the request that failed).
int TrimPool(int device);
int MemsetAsync(void* ptr, int value, size_t bytes, Stream stream);

enum class CopyKind : int { kHostToDevice = 0, kDeviceToHost = 1, kDeviceToDevice = 2 };
int MemcpyAsync(void* dst, const void* src, size_t bytes, CopyKind kind, Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_RUNTIME_H_
