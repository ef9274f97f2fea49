#include "gisp/saliency/gradient_reduction.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {

absl::Status ReduceGradients(Communicator& comm, LlamaModel* model, LlamaGradients* grads,
                             DeviceAllReduce* device) {
  if (comm.size() == 1) return absl::OkStatus();
  Backend* backend = model->backend();
  std::vector<std::pair<std::string, Tensor*>> buffers;
  ForEachParameter(model->config(), grads, [&](const std::string& name, Tensor* t) {
    if (!t->empty()) buffers.emplace_back(name, t);
  });
  // Every kernel that wrote the buffers has finished before the host reads them.
  GISP_RETURN_IF_ERROR(backend->Synchronize());
  for (const auto& [name, t] : buffers) {
    if (t->dtype() != DType::kF32) {
      return absl::InternalError(
          absl::StrCat("gradient ", name, " is ", t->DebugString(), "; Gbar buffers are f32"));
    }
    const size_t count = static_cast<size_t>(t->numel());
    if (device != nullptr && !t->device().is_cpu()) {
      // Queued on the backend's stream behind the kernels that wrote the buffer.
      GISP_RETURN_IF_ERROR(Annotate(device->AllReduceSum(*t), name));
      continue;
    }
    if (t->device().is_cpu()) {
      GISP_RETURN_IF_ERROR(Annotate(comm.AllReduceSum(absl::MakeSpan(t->f32(), count)), name));
      continue;
    }
    GISP_ASSIGN_OR_RETURN(Tensor host, Tensor::HostUninitialized(t->shape(), DType::kF32));
    GISP_RETURN_IF_ERROR(backend->Download(host, *t));
    GISP_RETURN_IF_ERROR(Annotate(comm.AllReduceSum(absl::MakeSpan(host.f32(), count)), name));
    GISP_RETURN_IF_ERROR(backend->Upload(*t, host));
  }
  // The device reductions are queued: wait for them (and report their errors) here, so the
  // step's timing counts them and the scoring reads complete sums.
  return device != nullptr ? backend->Synchronize() : absl::OkStatus();
}

}  // namespace gisp
