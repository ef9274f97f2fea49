// Device memory a model and a calibration pass need, by the formulas of docs/memory.md, so work
// that cannot fit is refused before anything is allocated, with the estimate and what is free
// (instead of failing halfway, or being killed by the kernel's OOM killer on the host).
#ifndef GISP_MODEL_MEMORY_ESTIMATE_H_
#define GISP_MODEL_MEMORY_ESTIMATE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gisp/backend/backend.h"
#include "gisp/model/config.h"
#include "gisp/model/grad_request.h"

namespace gisp {

// Bytes of the working weights: the large matrices in `weight_dtype`, norms and biases in
// `compute_dtype` (docs/memory.md: w P_m + 4 P_s).
int64_t WeightBytes(const LlamaConfig& config, DType weight_dtype, DType compute_dtype);

// Layer streaming (LlamaModel::Options::stream_layers): the bytes that stay on the device (the
// embeddings, the final norm and lm_head) plus the largest decoder layer, which a pass uploads
// one at a time (docs/memory.md).
int64_t StreamedWeightBytes(const LlamaConfig& config, DType weight_dtype, DType compute_dtype);

// Bytes a ForwardBackward over B x T tokens needs beyond the weights, with pure per-layer
// checkpointing (the least gisp can run with; kept activations only use memory that is free):
// gradient buffers for `request`, the layer-input checkpoints, one layer's activations and
// backward temporaries, and the head's logits chunk of `logits_chunk_floats` floats.
// With `stream_layers` the decoder layers' gradient buffers live in host memory and only one
// layer's are on the device at a time, next to that layer's uploaded weights (`weight_dtype`):
// the gradient term becomes the non-layer buffers plus the largest layer's weights and
// gradients together.
int64_t CalibrationPassBytes(const LlamaConfig& config, const GradRequest& request, int64_t batch,
                             int64_t seq, int64_t logits_chunk_floats, DType compute_dtype,
                             bool stream_layers = false, DType weight_dtype = DType::kF32);

// ResourceExhausted naming `what`, the estimate and the free memory of `device` when `need`
// exceeds `memory.free_bytes`.
absl::Status CheckFits(absl::string_view what, int64_t need, const MemoryInfo& memory,
                       const Device& device);

}  // namespace gisp

#endif  // GISP_MODEL_MEMORY_ESTIMATE_H_
