#include "gisp/model/decoder.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"
#include "gisp/model/rope_table.h"

namespace gisp {

KvCacheDecoder::KvCacheDecoder(LlamaModel* model) : model_(model), ws_(model->backend()) {}

absl::Status KvCacheDecoder::Reserve(int64_t positions) {
  const LlamaConfig& c = model_->config();
  if (positions > c.max_position_embeddings) {
    return absl::OutOfRangeError(absl::StrCat(
        "decoding: ", positions, " positions exceed the model's ", c.max_position_embeddings));
  }
  if (positions <= capacity_) return absl::OkStatus();
  Backend* be = model_->backend();
  const int64_t cap = std::min<int64_t>(c.max_position_embeddings,
                                        std::max<int64_t>(positions, 2 * capacity_ + 64));
  k_cache_.resize(static_cast<size_t>(c.num_layers));
  v_cache_.resize(static_cast<size_t>(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const int64_t kv = c.layers[static_cast<size_t>(l)].n_kv_heads;
    for (auto* cache : {&k_cache_[l], &v_cache_[l]}) {
      GISP_ASSIGN_OR_RETURN(Tensor grown, be->Allocate({1, cap, kv, c.head_dim}));
      if (length_ > 0) {
        const Shape prefix = {1, length_, kv, c.head_dim};
        GISP_RETURN_IF_ERROR(be->Copy(grown.View(0, prefix), cache->View(0, prefix)));
      }
      *cache = std::move(grown);
    }
  }
  GISP_ASSIGN_OR_RETURN(RopeTable table, MakeRopeTable(c, cap, DType::kF64));
  GISP_ASSIGN_OR_RETURN(cos_, be->Allocate(table.cos.shape()));
  GISP_ASSIGN_OR_RETURN(sin_, be->Allocate(table.sin.shape()));
  GISP_RETURN_IF_ERROR(be->Upload(cos_, table.cos));
  GISP_RETURN_IF_ERROR(be->Upload(sin_, table.sin));
  capacity_ = cap;
  return absl::OkStatus();
}

absl::StatusOr<Tensor> KvCacheDecoder::Append(absl::Span<const int32_t> tokens) {
  GISP_CHECK_ARG(!tokens.empty(), "decoding: no tokens to append");
  const LlamaConfig& c = model_->config();
  for (int32_t t : tokens) {
    GISP_CHECK_ARG(t >= 0 && t < c.vocab_size, "decoding: token id ", t,
                   " outside the vocabulary [0, ", c.vocab_size, ")");
  }
  Backend* be = model_->backend();
  const LlamaWeights& w = model_->weights();
  const int64_t n = static_cast<int64_t>(tokens.size()), d = c.hidden_size, dh = c.head_dim;
  const int64_t p0 = length_;
  GISP_RETURN_IF_ERROR(Reserve(p0 + n));
  const float eps = static_cast<float>(c.rms_norm_eps);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dh)));

  GISP_ASSIGN_OR_RETURN(Tensor ids_host, Tensor::Host({n}, DType::kI32));
  std::copy(tokens.begin(), tokens.end(), ids_host.i32());
  GISP_ASSIGN_OR_RETURN(Tensor ids, ws_.Get("ids", {n}, DType::kI32));
  GISP_RETURN_IF_ERROR(be->Upload(ids, ids_host));
  GISP_ASSIGN_OR_RETURN(Tensor x, ws_.Get("x", {n, d}));
  GISP_ASSIGN_OR_RETURN(Tensor y, ws_.Get("y", {n, d}));
  GISP_RETURN_IF_ERROR(be->EmbeddingForward(x, w.embed, ids));
  GISP_ASSIGN_OR_RETURN(Tensor h, ws_.Get("h", {n, d}));
  GISP_ASSIGN_OR_RETURN(Tensor r, ws_.Get("r", {n}));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    GISP_ASSIGN_OR_RETURN(const LayerWeights lw, model_->DeviceLayer(l));  // streamed: uploaded
    const LayerShape& s = c.layers[static_cast<size_t>(l)];  // widths; kv_map from the model
    const int64_t hq = s.n_heads, kv = s.n_kv_heads, f = s.intermediate;
    GISP_RETURN_IF_ERROR(be->RmsNormForward(h, r, x, lw.input_norm, eps));
    GISP_ASSIGN_OR_RETURN(Tensor q, ws_.Get("q", {1, n, hq, dh}));
    GISP_ASSIGN_OR_RETURN(Tensor k, ws_.Get("k", {1, n, kv, dh}));
    GISP_ASSIGN_OR_RETURN(Tensor v, ws_.Get("v", {1, n, kv, dh}));
    const auto linear_from = [&](const Tensor& out, const Tensor& in, const Tensor& wt,
                                 const Tensor& bias) -> absl::Status {
      const Tensor flat = out.View(0, {n, out.numel() / n});
      GISP_RETURN_IF_ERROR(be->Gemm(flat, in, false, wt, true, 1.0f, 0.0f));
      if (!bias.empty()) GISP_RETURN_IF_ERROR(be->AddBias(flat, bias));
      return absl::OkStatus();
    };
    const auto linear = [&](const Tensor& out, const Tensor& wt, const Tensor& bias) {
      return linear_from(out, h, wt, bias);
    };
    GISP_RETURN_IF_ERROR(linear(q, lw.q_proj, lw.q_bias));
    GISP_RETURN_IF_ERROR(linear(k, lw.k_proj, lw.k_bias));
    GISP_RETURN_IF_ERROR(linear(v, lw.v_proj, lw.v_bias));
    GISP_RETURN_IF_ERROR(be->Rope(q, cos_, sin_, p0, false));
    GISP_RETURN_IF_ERROR(be->Rope(k, cos_, sin_, p0, false));
    const Shape fresh = {1, n, kv, dh};
    GISP_RETURN_IF_ERROR(be->Copy(k_cache_[l].View(p0 * kv * dh, fresh), k));
    GISP_RETURN_IF_ERROR(be->Copy(v_cache_[l].View(p0 * kv * dh, fresh), v));
    const Shape seen = {1, p0 + n, kv, dh};
    GISP_ASSIGN_OR_RETURN(Tensor attn, ws_.Get("attn", {1, n, hq, dh}));
    GISP_ASSIGN_OR_RETURN(Tensor lse, ws_.Get("lse", {1, hq, n}));
    GISP_RETURN_IF_ERROR(be->AttentionForward(attn, lse, q, k_cache_[l].View(0, seen),
                                              v_cache_[l].View(0, seen), model_->kv_map(l),
                                              scale));
    GISP_RETURN_IF_ERROR(linear_from(y, attn.View(0, {n, hq * dh}), lw.o_proj, lw.o_bias));
    GISP_RETURN_IF_ERROR(be->Add(x, x, y));  // x is now x2
    GISP_RETURN_IF_ERROR(be->RmsNormForward(h, r, x, lw.post_norm, eps));
    GISP_ASSIGN_OR_RETURN(Tensor gate, ws_.Get("gate", {n, f}));
    GISP_ASSIGN_OR_RETURN(Tensor up, ws_.Get("up", {n, f}));
    GISP_RETURN_IF_ERROR(linear(gate, lw.gate_proj, lw.gate_bias));
    GISP_RETURN_IF_ERROR(linear(up, lw.up_proj, lw.up_bias));
    GISP_RETURN_IF_ERROR(be->SwigluForward(gate, gate, up));
    GISP_RETURN_IF_ERROR(linear_from(y, gate, lw.down_proj, lw.down_bias));
    GISP_RETURN_IF_ERROR(be->Add(x, x, y));
  }
  const Tensor last = x.Slice(n - 1, n);
  GISP_ASSIGN_OR_RETURN(Tensor hl, ws_.Get("h_last", {1, d}));
  GISP_ASSIGN_OR_RETURN(Tensor rl, ws_.Get("r_last", {1}));
  GISP_RETURN_IF_ERROR(be->RmsNormForward(hl, rl, last, w.final_norm, eps));
  GISP_ASSIGN_OR_RETURN(Tensor logits, ws_.Get("logits", {1, c.vocab_size}));
  GISP_RETURN_IF_ERROR(be->Gemm(logits, hl, false, w.lm_head, true, 1.0f, 0.0f));
  GISP_ASSIGN_OR_RETURN(Tensor out, Tensor::Host({c.vocab_size}));
  GISP_RETURN_IF_ERROR(be->Download(out, logits));
  length_ = p0 + n;
  return out;
}

}  // namespace gisp
