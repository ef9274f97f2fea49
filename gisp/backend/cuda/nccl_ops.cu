// NCCL wrappers; see nccl_ops.h for why they exist.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

#include "gisp/backend/cuda/nccl_ops.h"

static_assert(NCCL_UNIQUE_ID_BYTES == gisp::gpu::kNcclUniqueIdBytes,
              "nccl_ops.h's unique id size differs from NCCL's");
static_assert(sizeof(ncclUniqueId) == sizeof(gisp::gpu::NcclUniqueId),
              "nccl_ops.h's unique id layout differs from NCCL's");

namespace gisp {
namespace gpu {

const char* NcclErrorString(int result) {
  return ncclGetErrorString(static_cast<ncclResult_t>(result));
}

int NcclVersion(int* version) { return ncclGetVersion(version); }

int NcclGetUniqueId(NcclUniqueId* id) {
  ncclUniqueId nccl_id;
  const ncclResult_t r = ncclGetUniqueId(&nccl_id);
  if (r == ncclSuccess) memcpy(id->bytes, nccl_id.internal, sizeof(id->bytes));
  return r;
}

int NcclCommInitRank(NcclComm* comm, int nranks, const NcclUniqueId& id, int rank) {
  ncclUniqueId nccl_id;
  memcpy(nccl_id.internal, id.bytes, sizeof(nccl_id.internal));
  return ncclCommInitRank(comm, nranks, nccl_id, rank);
}

int NcclCommDestroy(NcclComm comm) { return ncclCommDestroy(comm); }

int NcclAllReduceSumF32(float* data, size_t count, NcclComm comm, Stream stream) {
  return ncclAllReduce(data, data, count, ncclFloat32, ncclSum, comm,
                       static_cast<cudaStream_t>(stream));
}

}  // namespace gpu
}  // namespace gisp
