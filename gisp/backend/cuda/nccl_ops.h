// Thin host-side wrappers over NCCL, in plain C++ types, for the device all-reduce
// (nccl_all_reduce.cc). Like runtime.h, this header includes no CUDA or NCCL header, because
// Bazel's gcc may not see /usr/local/cuda/include; nccl_ops.cu (compiled by nvcc) includes
// <nccl.h> and implements them.
//
// Every function returning `int` returns an ncclResult_t value (0 = ncclSuccess).
#ifndef GISP_BACKEND_CUDA_NCCL_OPS_H_
#define GISP_BACKEND_CUDA_NCCL_OPS_H_

#include <cstddef>

#include "gisp/backend/cuda/runtime.h"

struct ncclComm;  // ncclComm_t is `ncclComm*`

namespace gisp {
namespace gpu {

using NcclComm = ncclComm*;

// NCCL_UNIQUE_ID_BYTES (nccl_ops.cu checks that the two agree): the bootstrap token rank 0
// creates and every rank passes to NcclCommInitRank. Plain bytes, so any host communicator can
// broadcast it.
constexpr size_t kNcclUniqueIdBytes = 128;
struct NcclUniqueId {
  char bytes[kNcclUniqueIdBytes] = {0};
};

// libnccl.so.2 is loaded on first use (dlopen; nccl_ops.cu says why). Null when it loaded, else
// why not ("libnccl.so.2: cannot open shared object file: ..."); the other functions then return
// ncclSystemError.
const char* NcclLoadError();
const char* NcclErrorString(int result);  // ncclGetErrorString
// ncclGetVersion: 22809 for 2.28.9 (major * 10000 + minor * 100 + patch).
int NcclVersion(int* version);
int NcclGetUniqueId(NcclUniqueId* id);
// Collective over the `nranks` callers that pass the same `id`; the calling thread's current
// CUDA device becomes the rank's device.
int NcclCommInitRank(NcclComm* comm, int nranks, const NcclUniqueId& id, int rank);
// Flushes the communicator's pending operations, then frees it.
int NcclCommDestroy(NcclComm comm);
// In place: data (`count` f32 on the communicator's device) becomes the sum over ranks. Queued
// on `stream`.
int NcclAllReduceSumF32(float* data, size_t count, NcclComm comm, Stream stream);

}  // namespace gpu
}  // namespace gisp

#endif  // GISP_BACKEND_CUDA_NCCL_OPS_H_
