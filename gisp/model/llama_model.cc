#include "gisp/model/llama_model.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gisp/base/call_context.h"
#include "gisp/base/status.h"
#include "gisp/model/head.h"
#include "gisp/model/layer.h"
#include "gisp/model/memory_estimate.h"
#include "gisp/model/rope_table.h"

namespace gisp {

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Create(const LlamaConfig& config,
                                                               const LlamaWeights& host_weights,
                                                               Backend* backend) {
  return Create(config, host_weights, backend, Options());
}

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Create(const LlamaConfig& config,
                                                               const LlamaWeights& host_weights,
                                                               Backend* backend, Options options) {
  GISP_RETURN_IF_ERROR(config.Validate());
  GISP_CHECK_ARG(backend->SupportsComputeDType(options.compute_dtype), "model: ", backend->name(),
                 " does not compute in ", DTypeName(options.compute_dtype));
  // A narrow weight dtype applies to f32 compute; the f64 oracle keeps everything in f64.
  if (options.compute_dtype != DType::kF32) options.weight_dtype = options.compute_dtype;
  GISP_CHECK_ARG(backend->SupportsStorageDType(options.weight_dtype), "model: ", backend->name(),
                 " cannot keep weights in ", DTypeName(options.weight_dtype));
  std::unique_ptr<LlamaModel> model(new LlamaModel(config, backend, options));
  std::map<std::string, Shape> expected;
  for (const ParameterSpec& spec : ParameterSpecs(config)) expected[spec.name] = spec.shape;
  LlamaWeights source = host_weights;
  absl::Status status;
  ForEachParameter(config, &source, [&](const std::string& name, Tensor* src) {
    if (!status.ok()) return;
    if (src->empty()) {
      status = absl::InvalidArgumentError(absl::StrCat("weights: tensor ", name, " is missing"));
      return;
    }
    const Shape& shape = expected[name];
    if (!src->device().is_cpu()) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "weights: tensor ", name, " must be a host tensor, got ", src->DebugString()));
    } else if (src->shape() != shape) {
      status = absl::InvalidArgumentError(
          absl::StrCat("weights: tensor ", name, " has shape ", ShapeToString(src->shape()),
                       ", the config implies ", ShapeToString(shape)));
    }
  });
  GISP_RETURN_IF_ERROR(status);
  // Refuse a model whose weights cannot fit before allocating any of them. Streamed, the device
  // holds the embeddings, the head and one decoder layer at a time.
  GISP_ASSIGN_OR_RETURN(MemoryInfo memory, backend->QueryMemory());
  GISP_RETURN_IF_ERROR(
      CheckFits(options.stream_layers ? "the model's embeddings, head and one streamed layer"
                                      : "the model's weights",
                options.stream_layers
                    ? StreamedWeightBytes(config, options.weight_dtype, options.compute_dtype)
                    : WeightBytes(config, options.weight_dtype, options.compute_dtype),
                memory, backend->device()));
  // Upload (visiting the model's own struct so slots line up). The large matrices take the
  // weight dtype; norms and biases the compute dtype.
  LlamaWeights& dst = model->weights_;
  dst.layers.resize(source.layers.size());
  struct Slot {
    Tensor* out;
    const Tensor* src;
    bool matrix;
  };
  std::vector<Slot> slots;
  ForEachParameter(config, &dst, [&](const std::string& name, Tensor* t) {
    const bool matrix = absl::EndsWith(name, "_proj.weight") ||
                        absl::EndsWith(name, "embed_tokens.weight") ||
                        absl::EndsWith(name, "lm_head.weight");
    slots.push_back({t, nullptr, matrix});
  });
  size_t i = 0;
  ForEachParameter(config, &source, [&](const std::string&, Tensor* t) { slots[i++].src = t; });
  // Progress and cancellation per decoder layer. Slots run embed, the layers' tensors in order,
  // the final norm and (untied) lm_head, so layer l's last tensor is slot (l + 1) * per_layer.
  const size_t tail = config.tie_word_embeddings ? 1 : 2;
  const size_t per_layer = config.num_layers > 0
                               ? (slots.size() - 1 - tail) / static_cast<size_t>(config.num_layers)
                               : 0;
  for (size_t s = 0; s < slots.size(); ++s) {
    const Slot& slot = slots[s];
    const bool layer_slot = s >= 1 && s + tail < slots.size();
    if (options.stream_layers && layer_slot) {
      *slot.out = *slot.src;  // stays on the host; DeviceLayer uploads it when needed
    } else {
      const DType dtype = slot.matrix ? options.weight_dtype : options.compute_dtype;
      GISP_ASSIGN_OR_RETURN(*slot.out, backend->Allocate(slot.src->shape(), dtype));
      GISP_RETURN_IF_ERROR(backend->Upload(*slot.out, *slot.src));
    }
    if (per_layer > 0 && s >= 1 && s + tail < slots.size() && s % per_layer == 0) {
      GISP_RETURN_IF_ERROR(
          ReportProgress("load", static_cast<int64_t>(s / per_layer), config.num_layers));
    }
  }
  if (config.tie_word_embeddings) dst.lm_head = dst.embed;
  model->host_weights_ = source;
  GISP_RETURN_IF_ERROR(model->BuildKvMaps());
  return model;
}

absl::Status LlamaModel::BuildKvMaps() {
  kv_maps_.clear();
  for (const LayerShape& s : config_.layers) {
    GISP_ASSIGN_OR_RETURN(IndexList list, backend_->UploadIndices(s.kv_map, s.n_kv_heads));
    kv_maps_.push_back(std::move(list));
  }
  return absl::OkStatus();
}

absl::StatusOr<LayerWeights> LlamaModel::DeviceLayer(int64_t layer) const {
  GISP_CHECK_ARG(layer >= 0 && layer < config_.num_layers, "model: layer ", layer,
                 " is outside [0, ", config_.num_layers, ")");
  const LayerWeights& host = weights_.layers[static_cast<size_t>(layer)];
  if (!options_.stream_layers) return host;
  LayerWeights device;
  for (const LayerMember& m : LayerMembers()) {
    const Tensor& src = host.*m.member;
    if (src.empty()) continue;
    Tensor& out = device.*m.member;
    GISP_ASSIGN_OR_RETURN(out, backend_->Allocate(src.shape(), m.matrix ? options_.weight_dtype
                                                                        : options_.compute_dtype));
    if (src.numel() > 0) GISP_RETURN_IF_ERROR(backend_->Upload(out, src));
  }
  return device;
}

absl::Status LlamaModel::StoreLayer(int64_t layer, const LayerWeights& device) {
  LayerWeights& slot = weights_.layers[static_cast<size_t>(layer)];
  if (!options_.stream_layers) {
    slot = device;
    return absl::OkStatus();
  }
  LayerWeights host;
  for (const LayerMember& m : LayerMembers()) {
    const Tensor& src = device.*m.member;
    if (src.empty()) continue;
    Tensor& out = host.*m.member;
    GISP_ASSIGN_OR_RETURN(out, Tensor::HostUninitialized(src.shape(), src.dtype()));
    if (src.numel() > 0) GISP_RETURN_IF_ERROR(backend_->Download(out, src));
  }
  slot = std::move(host);
  return absl::OkStatus();
}

absl::StatusOr<LayerWeights> LlamaModel::StageGradients(const LayerWeights& grads) const {
  if (!options_.stream_layers) return grads;
  LayerWeights device;
  for (const LayerMember& m : LayerMembers()) {
    const Tensor& src = grads.*m.member;
    if (src.empty()) continue;
    Tensor& out = device.*m.member;
    GISP_ASSIGN_OR_RETURN(out, backend_->Allocate(src.shape(), src.dtype()));
    if (src.numel() > 0) GISP_RETURN_IF_ERROR(backend_->Upload(out, src));
  }
  return device;
}

absl::Status LlamaModel::UnstageGradients(const LayerWeights& staged, LayerWeights* grads) const {
  if (!options_.stream_layers) return absl::OkStatus();
  for (const LayerMember& m : LayerMembers()) {
    const Tensor& src = staged.*m.member;
    if (src.empty() || src.numel() == 0) continue;
    GISP_RETURN_IF_ERROR(backend_->Download(grads->*m.member, src));
  }
  return absl::OkStatus();
}

int64_t LlamaModel::PassBytes(const GradRequest& request, int64_t batch, int64_t seq) {
  return CalibrationPassBytes(config_, request, batch, seq, LogitsChunkFloats(),
                              options_.compute_dtype, options_.stream_layers,
                              options_.weight_dtype);
}

absl::Status LlamaModel::CheckPassFits(const GradRequest& request, int64_t batch, int64_t seq) {
  GISP_ASSIGN_OR_RETURN(MemoryInfo memory, backend_->QueryMemory());
  const int64_t need = PassBytes(request, batch, seq);
  const CallContext* call = CurrentCallContext();
  if (call != nullptr && call->memory_budget > 0 && need > call->memory_budget) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a calibration pass over ", batch, " x ", seq, " tokens needs ", need,
        " bytes beyond the weights even with per-layer recomputation (docs/memory.md); the "
        "context's memory budget is ",
        call->memory_budget, " bytes"));
  }
  // The workspace already holds part of what a pass needs when one ran before.
  memory.free_bytes += static_cast<int64_t>(workspace_.bytes());
  return CheckFits(absl::StrCat("a calibration pass over ", batch, " x ", seq, " tokens"), need,
                   memory, backend_->device());
}

int64_t LlamaModel::LogitsChunkFloats() {
  if (options_.logits_chunk_floats > 0) return options_.logits_chunk_floats;
  constexpr int64_t kMin = int64_t{1} << 20, kMax = int64_t{64} << 20;
  auto memory = backend_->QueryMemory();
  if (!memory.ok()) return int64_t{16} << 20;
  return std::clamp<int64_t>(memory->total_bytes / 1024 / 4, kMin, kMax);
}

absl::StatusOr<LlamaGradients> LlamaModel::AllocateGradients(const GradRequest& request) {
  LlamaGradients g;
  const LlamaConfig& c = config_;
  auto alloc = [&](const Tensor& like, Tensor* out) -> absl::Status {
    GISP_ASSIGN_OR_RETURN(*out, backend_->AllocateZeroed(like.shape(), options_.compute_dtype));
    return absl::OkStatus();
  };
  // Streamed, the layers' buffers are host memory (Gbar on the host); Run stages one at a time.
  auto alloc_layer = [&](const Tensor& like, Tensor* out) -> absl::Status {
    if (!options_.stream_layers) return alloc(like, out);
    GISP_ASSIGN_OR_RETURN(*out, Tensor::Host(like.shape(), options_.compute_dtype));
    return absl::OkStatus();
  };
  if (request.embeddings || (request.lm_head && c.tie_word_embeddings)) {
    GISP_RETURN_IF_ERROR(alloc(weights_.embed, &g.embed));
  }
  if (request.lm_head) {
    if (c.tie_word_embeddings) {
      g.lm_head = g.embed;
    } else {
      GISP_RETURN_IF_ERROR(alloc(weights_.lm_head, &g.lm_head));
    }
  }
  if (request.final_norm) GISP_RETURN_IF_ERROR(alloc(weights_.final_norm, &g.final_norm));
  g.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const uint32_t m = request.layer(l);
    const LayerWeights& w = weights_.layers[static_cast<size_t>(l)];
    LayerWeights& gl = g.layers[static_cast<size_t>(l)];
    if (m & kParamQ) GISP_RETURN_IF_ERROR(alloc_layer(w.q_proj, &gl.q_proj));
    if (m & kParamK) GISP_RETURN_IF_ERROR(alloc_layer(w.k_proj, &gl.k_proj));
    if (m & kParamV) GISP_RETURN_IF_ERROR(alloc_layer(w.v_proj, &gl.v_proj));
    if (m & kParamO) GISP_RETURN_IF_ERROR(alloc_layer(w.o_proj, &gl.o_proj));
    if (m & kParamGate) GISP_RETURN_IF_ERROR(alloc_layer(w.gate_proj, &gl.gate_proj));
    if (m & kParamUp) GISP_RETURN_IF_ERROR(alloc_layer(w.up_proj, &gl.up_proj));
    if (m & kParamDown) GISP_RETURN_IF_ERROR(alloc_layer(w.down_proj, &gl.down_proj));
    if (m & kParamNorms) {
      GISP_RETURN_IF_ERROR(alloc_layer(w.input_norm, &gl.input_norm));
      GISP_RETURN_IF_ERROR(alloc_layer(w.post_norm, &gl.post_norm));
    }
    if (m & kParamBiases) {
      for (Tensor LayerWeights::*b :
           {&LayerWeights::q_bias, &LayerWeights::k_bias, &LayerWeights::v_bias,
            &LayerWeights::o_bias, &LayerWeights::gate_bias, &LayerWeights::up_bias,
            &LayerWeights::down_bias}) {
        if (!(w.*b).empty()) GISP_RETURN_IF_ERROR(alloc_layer(w.*b, &(gl.*b)));
      }
    }
  }
  return g;
}

absl::Status LlamaModel::EnsureRope(int64_t positions) {
  if (positions <= rope_positions_) return absl::OkStatus();
  // Grow geometrically so a run with varying lengths builds few tables.
  const int64_t want = std::max<int64_t>(positions, 2 * rope_positions_);
  GISP_ASSIGN_OR_RETURN(RopeTable table, MakeRopeTable(config_, want, DType::kF64));
  GISP_ASSIGN_OR_RETURN(rope_cos_, backend_->Allocate(table.cos.shape(), options_.compute_dtype));
  GISP_ASSIGN_OR_RETURN(rope_sin_, backend_->Allocate(table.sin.shape(), options_.compute_dtype));
  GISP_RETURN_IF_ERROR(backend_->Upload(rope_cos_, table.cos));
  GISP_RETURN_IF_ERROR(backend_->Upload(rope_sin_, table.sin));
  rope_positions_ = want;
  return absl::OkStatus();
}

absl::Status LlamaModel::PrepareBatch(const Batch& batch, Tensor* tokens, Tensor* targets,
                                      Tensor* weights, Tensor* host_targets, Tensor* host_weights,
                                      LossResult* stats) {
  GISP_CHECK_ARG(batch.tokens.rank() == 2 && batch.tokens.dtype() == DType::kI32,
                 "batch: tokens must be i32 [B, T], got ", batch.tokens.DebugString());
  GISP_CHECK_ARG(
      batch.targets.shape() == batch.tokens.shape() && batch.targets.dtype() == DType::kI32,
      "batch: targets must be i32 ", ShapeToString(batch.tokens.shape()), ", got ",
      batch.targets.DebugString());
  GISP_CHECK_ARG(batch.weights.empty() || (batch.weights.shape() == batch.tokens.shape() &&
                                           batch.weights.dtype() == DType::kF32),
                 "batch: weights must be f32 ", ShapeToString(batch.tokens.shape()), ", got ",
                 batch.weights.DebugString());
  const int64_t n = batch.tokens.numel();
  // Host views for validation and the default weights: the batch itself when it is on the
  // host, a download otherwise. Ids are validated here, once, so no verb reads them back.
  auto on_host = [&](const Tensor& t, DType dtype) -> absl::StatusOr<Tensor> {
    if (t.device().is_cpu()) return t.View(0, {n});
    GISP_ASSIGN_OR_RETURN(Tensor h, Tensor::HostUninitialized({n}, dtype));
    GISP_RETURN_IF_ERROR(backend_->Download(h, t));
    return h;
  };
  GISP_ASSIGN_OR_RETURN(Tensor host_tokens, on_host(batch.tokens, DType::kI32));
  GISP_ASSIGN_OR_RETURN(*host_targets, on_host(batch.targets, DType::kI32));
  const int64_t v = config_.vocab_size;
  int64_t labelled = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t tok = host_tokens.i32()[i];
    const int32_t tgt = host_targets->i32()[i];
    GISP_CHECK_ARG(tok >= 0 && tok < v, "batch: token id ", tok, " at position ", i,
                   " is outside the vocabulary [0, ", v, ")");
    GISP_CHECK_ARG(tgt >= -1 && tgt < v, "batch: target id ", tgt, " at position ", i,
                   " is outside [-1, ", v, ")");
    if (tgt >= 0) ++labelled;
  }
  stats->labelled = labelled;
  if (batch.weights.empty()) {
    GISP_ASSIGN_OR_RETURN(*host_weights, Tensor::HostUninitialized({n}));
    const float w = labelled > 0 ? 1.0f / static_cast<float>(labelled) : 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      host_weights->f32()[i] = host_targets->i32()[i] >= 0 ? w : 0.0f;
    }
  } else {
    GISP_ASSIGN_OR_RETURN(*host_weights, on_host(batch.weights, DType::kF32));
  }
  GISP_ASSIGN_OR_RETURN(*tokens, workspace_.Get("in.tokens", {n}, DType::kI32));
  GISP_ASSIGN_OR_RETURN(*targets, workspace_.Get("in.targets", {n}, DType::kI32));
  GISP_ASSIGN_OR_RETURN(*weights, workspace_.Get("in.weights", {n}));
  GISP_RETURN_IF_ERROR(backend_->Upload(*tokens, host_tokens));
  GISP_RETURN_IF_ERROR(backend_->Upload(*targets, *host_targets));
  GISP_RETURN_IF_ERROR(backend_->Upload(*weights, *host_weights));
  return absl::OkStatus();
}

absl::StatusOr<LossResult> LlamaModel::Forward(const Batch& batch, Tensor* nll, Tensor* logits) {
  return Run(batch, nullptr, nullptr, nll, logits);
}

absl::StatusOr<LossResult> LlamaModel::ForwardBackward(const Batch& batch,
                                                       const GradRequest& request,
                                                       LlamaGradients* grads) {
  return Run(batch, &request, grads, nullptr, nullptr);
}

absl::StatusOr<LossResult> LlamaModel::Run(const Batch& batch, const GradRequest* request,
                                           LlamaGradients* grads, Tensor* nll_out,
                                           Tensor* logits_out) {
  LossResult result;
  Tensor tokens, targets, weights, host_targets, host_weights;
  GISP_RETURN_IF_ERROR(
      PrepareBatch(batch, &tokens, &targets, &weights, &host_targets, &host_weights, &result));
  const int64_t b = batch.tokens.dim(0), t = batch.tokens.dim(1), n = b * t;
  const int64_t num_layers = config_.num_layers, d = config_.hidden_size;
  if (nll_out != nullptr) {
    GISP_ASSIGN_OR_RETURN(*nll_out, Tensor::Host({b, t}));
  }
  if (logits_out != nullptr) {
    GISP_ASSIGN_OR_RETURN(*logits_out, Tensor::Host({b, t, config_.vocab_size}));
  }
  if (n == 0) return result;
  GISP_RETURN_IF_ERROR(EnsureRope(t));
  const bool backward = request != nullptr;
  const int64_t stop = backward ? request->StopLayer(num_layers) : num_layers;
  const int64_t low = std::max<int64_t>(stop, 0);

  LayerContext ctx;
  ctx.backend = backend_;
  ctx.config = &config_;
  ctx.batch = b;
  ctx.seq = t;
  ctx.rope_cos = rope_cos_;
  ctx.rope_sin = rope_sin_;
  ctx.workspace = &workspace_;

  // Which layers keep their activations from the forward pass: the top ones (used first by
  // backward) while they fit in the budget.
  std::vector<bool> keep(static_cast<size_t>(num_layers), false);
  if (backward) {
    int64_t budget = options_.keep_activation_bytes;
    if (budget < 0) {
      GISP_ASSIGN_OR_RETURN(MemoryInfo memory, backend_->QueryMemory());
      budget = memory.free_bytes / 2;
      // A host's budget covers everything beyond the weights: what the pass needs anyway comes
      // first, kept activations get the rest.
      const CallContext* call = CurrentCallContext();
      if (call != nullptr && call->memory_budget > 0) {
        const int64_t need = PassBytes(*request, b, t);
        budget = std::min(budget, std::max<int64_t>(0, call->memory_budget - need));
      }
    }
    for (int64_t l = num_layers - 1; l >= low; --l) {
      const int64_t bytes = LayerActivationBytes(config_, l, n, b);
      if (bytes > budget) break;
      budget -= bytes;
      keep[static_cast<size_t>(l)] = true;
    }
  }
  // Layer inputs x_l; forward-only passes ping-pong between two buffers.
  auto x_name = [&](int64_t l) {
    return backward ? absl::StrCat("x.", l) : absl::StrCat("x.", l % 2);
  };
  GISP_ASSIGN_OR_RETURN(Tensor x0, workspace_.Get(x_name(0), {n, d}));
  GISP_RETURN_IF_ERROR(backend_->EmbeddingForward(x0, weights_.embed, tokens));
  for (int64_t l = 0; l < num_layers; ++l) {
    ctx.layer = l;
    ctx.kv_map = &kv_maps_[static_cast<size_t>(l)];
    GISP_ASSIGN_OR_RETURN(Tensor x, workspace_.Get(x_name(l), {n, d}));
    GISP_ASSIGN_OR_RETURN(Tensor y, workspace_.Get(x_name(l + 1), {n, d}));
    GISP_ASSIGN_OR_RETURN(
        LayerActivations acts,
        GetLayerActivations(ctx, keep[l] ? absl::StrCat("act.", l) : std::string("act.shared")));
    GISP_ASSIGN_OR_RETURN(const LayerWeights w, DeviceLayer(l));  // streamed: uploaded here
    GISP_RETURN_IF_ERROR(LayerForward(ctx, w, x, y, &acts));
  }

  GISP_ASSIGN_OR_RETURN(Tensor last, workspace_.Get(x_name(num_layers), {n, d}));
  HeadArgs head;
  head.x = &last;
  head.targets = &targets;
  head.weights = &weights;
  head.chunk_floats = LogitsChunkFloats();
  GISP_ASSIGN_OR_RETURN(head.nll, workspace_.Get("head.nll", {n}));
  if (logits_out != nullptr) head.logits_out = logits_out->View(0, {n, config_.vocab_size});
  Tensor grad;  // dL/dx_l, flowing down the layers
  if (backward) {
    if (stop < num_layers) {
      GISP_ASSIGN_OR_RETURN(grad, workspace_.Get("grad.d", {n, d}));
      head.d_x = grad;
    }
    if (request->lm_head) head.d_lm_head = grads->lm_head;
    if (request->final_norm) head.d_final_norm = grads->final_norm;
  }
  GISP_RETURN_IF_ERROR(HeadForwardBackward(backend_, &workspace_, config_, weights_, &head));

  // Loss on the host, in double: one download of the per-position NLL.
  GISP_ASSIGN_OR_RETURN(Tensor nll_host, Tensor::HostUninitialized({n}, DType::kF64));
  GISP_RETURN_IF_ERROR(backend_->Download(nll_host, head.nll));
  for (int64_t i = 0; i < n; ++i) {
    if (host_targets.i32()[i] < 0) continue;
    result.loss += static_cast<double>(host_weights.f32()[i]) * nll_host.data<double>()[i];
    result.nll_sum += nll_host.data<double>()[i];
  }
  if (nll_out != nullptr) {
    ConvertElements(DType::kF64, nll_host.raw(), DType::kF32, nll_out->raw(),
                    static_cast<size_t>(n));
  }
  if (!backward || stop >= num_layers) return result;

  for (int64_t l = num_layers - 1; l >= low; --l) {
    ctx.layer = l;
    ctx.kv_map = &kv_maps_[static_cast<size_t>(l)];
    GISP_ASSIGN_OR_RETURN(Tensor x, workspace_.Get(x_name(l), {n, d}));
    // Streamed: the layer is uploaded again, with its Gbar slice (accumulated on the device by
    // the same kernels as when resident, then written back to the host).
    GISP_ASSIGN_OR_RETURN(const LayerWeights w, DeviceLayer(l));
    LayerWeights& host_grads = grads->layers[static_cast<size_t>(l)];
    GISP_ASSIGN_OR_RETURN(LayerWeights layer_grads, StageGradients(host_grads));
    LayerActivations acts;
    if (keep[static_cast<size_t>(l)]) {
      GISP_ASSIGN_OR_RETURN(acts, GetLayerActivations(ctx, absl::StrCat("act.", l)));
    } else {
      // Recompute this layer's activations; x_{l+1} is free to overwrite now.
      GISP_ASSIGN_OR_RETURN(acts, GetLayerActivations(ctx, "act.shared"));
      GISP_ASSIGN_OR_RETURN(Tensor y, workspace_.Get(x_name(l + 1), {n, d}));
      GISP_RETURN_IF_ERROR(LayerForward(ctx, w, x, y, &acts));
    }
    GISP_RETURN_IF_ERROR(LayerBackward(ctx, w, x, &acts, request->layer(l), &layer_grads, grad,
                                       /*need_dx=*/l > stop));
    GISP_RETURN_IF_ERROR(UnstageGradients(layer_grads, &host_grads));
  }
  if (stop < 0 && request->embeddings) {
    GISP_RETURN_IF_ERROR(backend_->EmbeddingBackward(grads->embed, grad, tokens));
  }
  return result;
}

}  // namespace gisp
