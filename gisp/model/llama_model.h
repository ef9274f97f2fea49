// LlamaModel: a Llama-family decoder on one backend, with the forward pass, the loss and a
// hand-written backward pass that accumulates parameter gradients.
//
// Memory. ForwardBackward keeps every layer's input x_l ([N, D], N = B*T tokens) and recomputes a
// layer's activations just before its backward step (per-layer activation checkpointing), so
// peak memory is weights + gradient buffers + (L+1)*N*D*4 bytes + one layer's activations
// + the head's chunk. Layers whose activations fit in Options::keep_activation_bytes are kept
// from the forward pass instead, which saves their recomputation (about a quarter of the
// work); docs/memory.md gives the formulas.
//
// Layer streaming (Options::stream_layers) keeps the decoder layers' weights and gradient
// buffers in host memory and puts one layer at a time on the device: a pass uploads layer l for
// its forward and again for its backward (with its Gbar slice, which is downloaded after), so the
// device holds the embeddings, the head and one layer instead of the whole model.
#ifndef GISP_MODEL_LLAMA_MODEL_H_
#define GISP_MODEL_LLAMA_MODEL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/backend/backend.h"
#include "gisp/model/batch.h"
#include "gisp/model/config.h"
#include "gisp/model/grad_request.h"
#include "gisp/model/weights.h"
#include "gisp/model/workspace.h"

namespace gisp {

// Positions, in a decoder layer's current layout, of query heads, KV heads and MLP channels
// (ascending, each below the layer's current width).
struct LayerPositions {
  std::vector<int32_t> heads;
  std::vector<int32_t> kv_heads;
  std::vector<int32_t> channels;
};

struct LossResult {
  double loss = 0;       // sum over positions of weight * nll
  double nll_sum = 0;    // sum of nll over labelled positions
  int64_t labelled = 0;  // number of positions with a target
};

class LlamaModel {
 public:
  struct Options {
    // Activations of this many bytes are kept between forward and backward instead of being
    // recomputed; 0 = pure per-layer checkpointing; negative = automatic: half of the device
    // memory that is free when the pass starts (QueryMemory). Results do not depend on it.
    int64_t keep_activation_bytes = -1;
    // Logits are computed this many floats at a time; negative = automatic: 1/1024 of the
    // device's total memory, within [1M, 64M] floats (fixed per device, so runs on one device
    // chunk alike).
    int64_t logits_chunk_floats = -1;
    // Element type of gradients, activations, norms and biases. f32 on every real backend; f64
    // runs the model on the reference backend as a double-precision oracle (tests).
    DType compute_dtype = DType::kF32;
    // Storage type of the large weights (q/k/v/o/gate/up/down, embeddings, lm_head): the compute
    // dtype, or bf16/f16 on backends whose SupportsStorageDType accepts it (CUDA), which halves
    // their memory; GEMMs still accumulate in f32.
    DType weight_dtype = DType::kF32;
    // Layer streaming: the decoder layers stay in host memory (the host tensors the model was
    // created from, e.g. views into the memory-mapped checkpoint; after compaction or masking,
    // host copies in the working dtypes) and DeviceLayer uploads one at a time; the layers'
    // gradient buffers (AllocateGradients) are host tensors. Embeddings, final norm and lm_head
    // stay on the device. The device runs the same kernels on the same values, so results are
    // bit-identical to the resident mode; the price is the uploads (docs/memory.md).
    bool stream_layers = false;
  };

  // Uploads `host_weights` (any float dtype, e.g. views into a memory-mapped checkpoint) onto
  // the backend in the weight and compute dtypes. Shapes must match `config` (checked; errors
  // name the tensor). The model keeps the host views (and so the mapping) alive: fingerprints
  // and nonzero counts are computed from them, never by downloading the device copy.
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Create(const LlamaConfig& config,
                                                            const LlamaWeights& host_weights,
                                                            Backend* backend);
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Create(const LlamaConfig& config,
                                                            const LlamaWeights& host_weights,
                                                            Backend* backend, Options options);

  const LlamaConfig& config() const { return config_; }
  // The working weights on the backend's device (streaming: the decoder layers' tensors are host
  // tensors; use DeviceLayer to compute with them). Their layout (config().layers) changes only
  // through ZeroPositions and ApplyLayout; mutable_weights() is for changing values in place
  // (tests perturb and poison weights), never shapes.
  LlamaWeights* mutable_weights() { return &weights_; }
  const LlamaWeights& weights() const { return weights_; }
  bool streaming() const { return options_.stream_layers; }
  // Decoder layer l's weights on the device: the resident tensors, or when streaming a fresh
  // upload of the host layer, which lives (and holds device memory) as long as the returned
  // handles do.
  absl::StatusOr<LayerWeights> DeviceLayer(int64_t layer) const;
  // Gradient buffers of one layer on the device: `grads` itself when resident; when streaming
  // (host buffers) a device copy, which UnstageGradients writes back.
  absl::StatusOr<LayerWeights> StageGradients(const LayerWeights& grads) const;
  absl::Status UnstageGradients(const LayerWeights& staged, LayerWeights* grads) const;

  // Masking: in each layer l, zeroes the q rows, o columns (and q bias) of the query heads
  // zero[l].heads, the k/v rows (and biases) of the KV heads zero[l].kv_heads, and the gate/up
  // rows and down columns of the channels zero[l].channels. The layout is unchanged; the zeroed
  // heads and channels then contribute exactly nothing. `zero` has one entry per layer.
  absl::Status ZeroPositions(const std::vector<LayerPositions>& zero);

  // Compaction: keeps, in each layer l, only the query heads, KV heads and channels at the
  // positions keep[l] (gathering their rows/columns of q/k/v/o, the biases and gate/up/down in
  // that order) and makes shapes[l] the layer's shape: its widths must equal the kept counts
  // and its kv_map index the kept KV heads. A layer whose lists keep everything is not touched.
  // Rebuilds the device kv_map lists. Checks the arguments before changing anything.
  absl::Status ApplyLayout(const std::vector<LayerPositions>& keep,
                           const std::vector<LayerShape>& shapes);
  // The weights and config the model was created from (host tensors, unchanged by pruning).
  const LlamaWeights& host_weights() const { return host_weights_; }
  const LlamaConfig& source_config() const { return source_config_; }
  // Layer l's query-head -> KV-head map on the device (built once per layout).
  const IndexList& kv_map(int64_t layer) const { return kv_maps_[static_cast<size_t>(layer)]; }
  Backend* backend() const { return backend_; }
  Options* mutable_options() { return &options_; }

  // Forward pass and loss. `nll` (optional, host f32 [B, T]) receives per-position NLL (0 where
  // unlabelled); `logits` (optional, host f32 [B, T, V]) the logits.
  absl::StatusOr<LossResult> Forward(const Batch& batch, Tensor* nll = nullptr,
                                     Tensor* logits = nullptr);

  // Forward and backward. Accumulates (+=) the gradients selected by `request` into `grads`
  // (from AllocateGradients with the same request).
  absl::StatusOr<LossResult> ForwardBackward(const Batch& batch, const GradRequest& request,
                                             LlamaGradients* grads);

  // Zero-filled f32 gradient tensors for what `request` selects (others left empty). With tied
  // embeddings lm_head and embed share one tensor.
  absl::StatusOr<LlamaGradients> AllocateGradients(const GradRequest& request);

  // ResourceExhausted, with the estimate and the free memory, when a ForwardBackward over
  // batch x seq tokens for `request` (gradient buffers included) cannot fit on the device even
  // with pure per-layer checkpointing (docs/memory.md).
  absl::Status CheckPassFits(const GradRequest& request, int64_t batch, int64_t seq);

  // Frees the activation workspace (it is re-created on the next pass).
  void ReleaseWorkspace() { workspace_.Clear(); }
  size_t workspace_bytes() const { return workspace_.bytes(); }

 private:
  LlamaModel(const LlamaConfig& config, Backend* backend, Options options)
      : config_(config),
        source_config_(config),
        backend_(backend),
        options_(options),
        workspace_(backend, options.compute_dtype) {}

  // Validates the batch on the host and uploads it. `host_targets` and `host_weights` receive
  // host copies (the loss is summed on the host).
  absl::Status PrepareBatch(const Batch& batch, Tensor* tokens, Tensor* targets, Tensor* weights,
                            Tensor* host_targets, Tensor* host_weights, LossResult* stats);
  absl::Status BuildKvMaps();
  int64_t LogitsChunkFloats();
  absl::Status EnsureRope(int64_t positions);
  absl::StatusOr<LossResult> Run(const Batch& batch, const GradRequest* request,
                                 LlamaGradients* grads, Tensor* nll, Tensor* logits);
  // Makes `device` (layer l on the device, after a layout change) the layer's working weights:
  // the handles themselves when resident, a download into new host tensors when streaming.
  absl::Status StoreLayer(int64_t layer, const LayerWeights& device);
  // The pass's bytes beyond the weights for CheckPassFits and the activation budget.
  int64_t PassBytes(const GradRequest& request, int64_t batch, int64_t seq);

  LlamaConfig config_;
  LlamaConfig source_config_;
  Backend* backend_;
  Options options_;
  LlamaWeights weights_;
  LlamaWeights host_weights_;
  std::vector<IndexList> kv_maps_;
  Workspace workspace_;
  Tensor rope_cos_, rope_sin_;  // device tables
  int64_t rope_positions_ = 0;
};

}  // namespace gisp

#endif  // GISP_MODEL_LLAMA_MODEL_H_
