// NCCL wrappers; see nccl_ops.h for why they exist.
//
// libnccl is loaded with dlopen on first use rather than linked: it is hundreds of MB and not on
// every machine that has the CUDA runtime, and a missing NCCL should leave gisp's CUDA binaries
// working, with Gbar summed through host memory, instead of keeping them from starting.
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>

#include <cstring>
#include <mutex>
#include <string>

#include "gisp/backend/cuda/nccl_ops.h"

static_assert(NCCL_UNIQUE_ID_BYTES == gisp::gpu::kNcclUniqueIdBytes,
              "nccl_ops.h's unique id size differs from NCCL's");
static_assert(sizeof(ncclUniqueId) == sizeof(gisp::gpu::NcclUniqueId),
              "nccl_ops.h's unique id layout differs from NCCL's");

namespace gisp {
namespace gpu {
namespace {

// The NCCL entry points gisp calls, with nccl.h's signatures.
struct NcclApi {
  decltype(&ncclGetErrorString) get_error_string = nullptr;
  decltype(&ncclGetVersion) get_version = nullptr;
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
};

struct Loaded {
  NcclApi api;
  bool ok = false;
  std::string error;
};

template <typename F>
bool Bind(void* lib, const char* name, F* out, std::string* error) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (*out == nullptr) *error = std::string("libnccl.so.2 lacks ") + name;
  return *out != nullptr;
}

const Loaded& Load() {
  static Loaded loaded;
  static std::once_flag once;
  std::call_once(once, [] {
    // Never closed: NCCL keeps threads and registrations alive until the process exits.
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      loaded.error = e != nullptr ? e : "dlopen(libnccl.so.2) failed";
      return;
    }
    NcclApi& a = loaded.api;
    loaded.ok = Bind(lib, "ncclGetErrorString", &a.get_error_string, &loaded.error) &&
                Bind(lib, "ncclGetVersion", &a.get_version, &loaded.error) &&
                Bind(lib, "ncclGetUniqueId", &a.get_unique_id, &loaded.error) &&
                Bind(lib, "ncclCommInitRank", &a.comm_init_rank, &loaded.error) &&
                Bind(lib, "ncclCommDestroy", &a.comm_destroy, &loaded.error) &&
                Bind(lib, "ncclAllReduce", &a.all_reduce, &loaded.error);
  });
  return loaded;
}

}  // namespace

const char* NcclLoadError() {
  const Loaded& l = Load();
  return l.ok ? nullptr : l.error.c_str();
}

const char* NcclErrorString(int result) {
  const Loaded& l = Load();
  return l.ok ? l.api.get_error_string(static_cast<ncclResult_t>(result)) : l.error.c_str();
}

int NcclVersion(int* version) {
  const Loaded& l = Load();
  return l.ok ? l.api.get_version(version) : ncclSystemError;
}

int NcclGetUniqueId(NcclUniqueId* id) {
  const Loaded& l = Load();
  if (!l.ok) return ncclSystemError;
  ncclUniqueId nccl_id;
  const ncclResult_t r = l.api.get_unique_id(&nccl_id);
  if (r == ncclSuccess) memcpy(id->bytes, nccl_id.internal, sizeof(id->bytes));
  return r;
}

int NcclCommInitRank(NcclComm* comm, int nranks, const NcclUniqueId& id, int rank) {
  const Loaded& l = Load();
  if (!l.ok) return ncclSystemError;
  ncclUniqueId nccl_id;
  memcpy(nccl_id.internal, id.bytes, sizeof(nccl_id.internal));
  return l.api.comm_init_rank(comm, nranks, nccl_id, rank);
}

int NcclCommDestroy(NcclComm comm) {
  const Loaded& l = Load();
  return l.ok ? l.api.comm_destroy(comm) : ncclSystemError;
}

int NcclAllReduceSumF32(float* data, size_t count, NcclComm comm, Stream stream) {
  const Loaded& l = Load();
  if (!l.ok) return ncclSystemError;
  return l.api.all_reduce(data, data, count, ncclFloat32, ncclSum, comm,
                          static_cast<cudaStream_t>(stream));
}

}  // namespace gpu
}  // namespace gisp
