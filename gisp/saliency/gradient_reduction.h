// The data-parallel half of Gbar: each rank's calibration pass summed the gradients of its share
// of the batches; adding the ranks' sums element-wise gives every rank the Gbar one process would
// have computed (up to the order of the f32 additions, docs/numerics.md).
#ifndef GISP_SALIENCY_GRADIENT_REDUCTION_H_
#define GISP_SALIENCY_GRADIENT_REDUCTION_H_

#include "absl/status/status.h"
#include "gisp/backend/device_all_reduce.h"
#include "gisp/comm/communicator.h"
#include "gisp/model/llama_model.h"

namespace gisp {

// One all-reduce per requested gradient buffer (f32), in the model's parameter order
// (ForEachParameter), so every rank issues the same calls in the same order. Buffers in host
// memory (the CPU backend) are reduced in place by `comm`. Device buffers are reduced in place
// on the device by `device` when the caller has one (NCCL under --config=cuda, created once per
// run with CreateDeviceAllReduce, which every rank agrees on); without it they go through a host
// copy, one at a time. Returns when the sums are complete. On a single rank it does nothing.
absl::Status ReduceGradients(Communicator& comm, LlamaModel* model, LlamaGradients* grads,
                             DeviceAllReduce* device = nullptr);

}  // namespace gisp

#endif  // GISP_SALIENCY_GRADIENT_REDUCTION_H_
