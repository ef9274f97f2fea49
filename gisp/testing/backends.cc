#include "gisp/testing/backends.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace gisp {
namespace testing {
namespace {

// Test helpers run inside gtest bodies: a failed transfer is a test failure, reported where it
// happened, not a crash.
template <typename T>
T ValueOrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s failed: %s\n", what, v.status().ToString().c_str());
    std::abort();
  }
  return std::move(v).value();
}

}  // namespace

std::vector<std::string> TestBackendNames() { return {"cpu", "cuda"}; }

absl::StatusOr<std::unique_ptr<Backend>> CreateTestBackend(const std::string& name) {
  if (name == "cpu") return CreateCpuBackend();
  if (name == "cuda") return CreateCudaBackend(0);
  return absl::InvalidArgumentError(absl::StrCat("unknown test backend '", name, "'"));
}

Tensor ToDevice(Backend* backend, const Tensor& host) {
  return ToDevice(backend, host, host.dtype());
}

Tensor ToDevice(Backend* backend, const Tensor& host, DType dtype) {
  Tensor t = ValueOrDie(backend->Allocate(host.shape(), dtype), "Allocate");
  if (host.numel() > 0) {
    const absl::Status s = backend->Upload(t, host);
    if (!s.ok()) ValueOrDie(absl::StatusOr<int>(s), "Upload");
  }
  return t;
}

Tensor ToHost(Backend* backend, const Tensor& t) {
  Tensor host = ValueOrDie(Tensor::Host(t.shape(), t.dtype()), "Tensor::Host");
  if (t.numel() > 0) {
    const absl::Status s = backend->Download(host, t);
    if (!s.ok()) ValueOrDie(absl::StatusOr<int>(s), "Download");
  }
  return host;
}

IndexList Indices(Backend* backend, const std::vector<int32_t>& values, int64_t bound) {
  return ValueOrDie(backend->UploadIndices(values, bound), "UploadIndices");
}

}  // namespace testing
}  // namespace gisp
