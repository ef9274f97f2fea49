#include "gisp/model/layer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

struct Widths {
  int64_t n, d, hq, kv, dh, f;
};

Widths LayerWidths(const LayerContext& ctx) {
  const LlamaConfig& c = *ctx.config;
  const LayerShape& s = c.layers[static_cast<size_t>(ctx.layer)];
  return {ctx.batch * ctx.seq, c.hidden_size, s.n_heads, s.n_kv_heads, c.head_dim, s.intermediate};
}

// The [N, width] view of a [B, T, H, Dh] tensor (GEMMs see heads flattened).
Tensor Flat(const Tensor& t, int64_t n) { return t.View(0, {n, t.numel() / (n > 0 ? n : 1)}); }

absl::Status Linear(Backend* be, const Tensor& out, const Tensor& in, const Tensor& w,
                    const Tensor& bias) {
  GISP_RETURN_IF_ERROR(be->Gemm(out, in, false, w, true, 1.0f, 0.0f));
  if (!bias.empty()) GISP_RETURN_IF_ERROR(be->AddBias(out, bias));
  return absl::OkStatus();
}

}  // namespace

int64_t LayerActivationBytes(const LlamaConfig& config, int64_t layer, int64_t tokens,
                             int64_t batch) {
  const LayerShape& s = config.layers[static_cast<size_t>(layer)];
  const int64_t d = config.hidden_size, dh = config.head_dim;
  const int64_t seq = batch > 0 ? tokens / batch : 0;
  int64_t floats =
      tokens * (3 * d + 2 + 2 * s.n_heads * dh + 2 * s.n_kv_heads * dh + 3 * s.intermediate);
  floats += batch * s.n_heads * seq;  // lse
  return floats * 4;
}

absl::StatusOr<LayerActivations> GetLayerActivations(const LayerContext& ctx,
                                                     const std::string& prefix) {
  const Widths w = LayerWidths(ctx);
  Workspace* ws = ctx.workspace;
  const int64_t b = ctx.batch, t = ctx.seq;
  LayerActivations a;
  auto get = [&](const char* field, const Shape& shape, Tensor* out) -> absl::Status {
    GISP_ASSIGN_OR_RETURN(*out, ws->Get(absl::StrCat(prefix, ".", field), shape));
    return absl::OkStatus();
  };
  GISP_RETURN_IF_ERROR(get("h1", {w.n, w.d}, &a.h1));
  GISP_RETURN_IF_ERROR(get("inv_rms1", {w.n}, &a.inv_rms1));
  GISP_RETURN_IF_ERROR(get("q", {b, t, w.hq, w.dh}, &a.q));
  GISP_RETURN_IF_ERROR(get("k", {b, t, w.kv, w.dh}, &a.k));
  GISP_RETURN_IF_ERROR(get("v", {b, t, w.kv, w.dh}, &a.v));
  GISP_RETURN_IF_ERROR(get("attn", {b, t, w.hq, w.dh}, &a.attn));
  GISP_RETURN_IF_ERROR(get("lse", {b, w.hq, t}, &a.lse));
  GISP_RETURN_IF_ERROR(get("x2", {w.n, w.d}, &a.x2));
  GISP_RETURN_IF_ERROR(get("h2", {w.n, w.d}, &a.h2));
  GISP_RETURN_IF_ERROR(get("inv_rms2", {w.n}, &a.inv_rms2));
  GISP_RETURN_IF_ERROR(get("gate", {w.n, w.f}, &a.gate));
  GISP_RETURN_IF_ERROR(get("up", {w.n, w.f}, &a.up));
  GISP_RETURN_IF_ERROR(get("act", {w.n, w.f}, &a.act));
  return a;
}

absl::Status LayerForward(const LayerContext& ctx, const LayerWeights& w, const Tensor& x,
                          const Tensor& out, LayerActivations* a) {
  Backend* be = ctx.backend;
  const LlamaConfig& c = *ctx.config;
  const Widths wd = LayerWidths(ctx);
  const float eps = static_cast<float>(c.rms_norm_eps);
  const IndexList& kv_map = *ctx.kv_map;

  GISP_RETURN_IF_ERROR(be->RmsNormForward(a->h1, a->inv_rms1, x, w.input_norm, eps));
  GISP_RETURN_IF_ERROR(Linear(be, Flat(a->q, wd.n), a->h1, w.q_proj, w.q_bias));
  GISP_RETURN_IF_ERROR(Linear(be, Flat(a->k, wd.n), a->h1, w.k_proj, w.k_bias));
  GISP_RETURN_IF_ERROR(Linear(be, Flat(a->v, wd.n), a->h1, w.v_proj, w.v_bias));
  GISP_RETURN_IF_ERROR(be->Rope(a->q, ctx.rope_cos, ctx.rope_sin, 0, false));
  GISP_RETURN_IF_ERROR(be->Rope(a->k, ctx.rope_cos, ctx.rope_sin, 0, false));
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(wd.dh)));
  GISP_RETURN_IF_ERROR(be->AttentionForward(a->attn, a->lse, a->q, a->k, a->v, kv_map, scale));
  GISP_RETURN_IF_ERROR(Linear(be, a->x2, Flat(a->attn, wd.n), w.o_proj, w.o_bias));
  GISP_RETURN_IF_ERROR(be->Add(a->x2, a->x2, x));

  GISP_RETURN_IF_ERROR(be->RmsNormForward(a->h2, a->inv_rms2, a->x2, w.post_norm, eps));
  GISP_RETURN_IF_ERROR(Linear(be, a->gate, a->h2, w.gate_proj, w.gate_bias));
  GISP_RETURN_IF_ERROR(Linear(be, a->up, a->h2, w.up_proj, w.up_bias));
  GISP_RETURN_IF_ERROR(be->SwigluForward(a->act, a->gate, a->up));
  GISP_RETURN_IF_ERROR(Linear(be, out, a->act, w.down_proj, w.down_bias));
  return be->Add(out, out, a->x2);
}

absl::Status LayerBackward(const LayerContext& ctx, const LayerWeights& w, const Tensor& x,
                           LayerActivations* a, uint32_t mask, LayerWeights* g, const Tensor& d,
                           bool need_dx) {
  Backend* be = ctx.backend;
  Workspace* ws = ctx.workspace;
  const LlamaConfig& c = *ctx.config;
  const Widths wd = LayerWidths(ctx);
  const IndexList& kv_map = *ctx.kv_map;
  const bool norms = (mask & kParamNorms) != 0;
  const bool biases = (mask & kParamBiases) != 0;
  const bool qkv_bias = biases && c.HasQkvBias();
  const bool o_bias = biases && c.HasOBias();
  const bool mlp_bias = biases && c.HasMlpBias();

  // ---- MLP: out = x2 + act Wd^T (+bd), act = silu(gate) * up.
  if (mask & kParamDown) GISP_RETURN_IF_ERROR(be->Gemm(g->down_proj, d, true, a->act, false, 1, 1));
  if (mlp_bias) GISP_RETURN_IF_ERROR(be->ColumnSum(g->down_bias, d));
  GISP_ASSIGN_OR_RETURN(Tensor d_act, ws->Get("bwd.d_act", {wd.n, wd.f}));
  GISP_RETURN_IF_ERROR(be->Gemm(d_act, d, false, w.down_proj, false, 1.0f, 0.0f));
  // In place: gate/up now hold d_gate/d_up.
  GISP_RETURN_IF_ERROR(be->SwigluBackward(a->gate, a->up, d_act, a->gate, a->up));
  if (mask & kParamGate)
    GISP_RETURN_IF_ERROR(be->Gemm(g->gate_proj, a->gate, true, a->h2, false, 1, 1));
  if (mask & kParamUp) GISP_RETURN_IF_ERROR(be->Gemm(g->up_proj, a->up, true, a->h2, false, 1, 1));
  if (mlp_bias) {
    GISP_RETURN_IF_ERROR(be->ColumnSum(g->gate_bias, a->gate));
    GISP_RETURN_IF_ERROR(be->ColumnSum(g->up_bias, a->up));
  }
  GISP_ASSIGN_OR_RETURN(Tensor d_h, ws->Get("bwd.d_h", {wd.n, wd.d}));
  GISP_RETURN_IF_ERROR(be->Gemm(d_h, a->gate, false, w.gate_proj, false, 1.0f, 0.0f));
  GISP_RETURN_IF_ERROR(be->Gemm(d_h, a->up, false, w.up_proj, false, 1.0f, 1.0f));
  // d becomes dL/dx2 (residual + norm path).
  GISP_RETURN_IF_ERROR(be->RmsNormBackward(d, norms ? g->post_norm : Tensor(), d_h, a->x2,
                                           w.post_norm, a->inv_rms2));

  // ---- Attention: x2 = x + attn Wo^T.
  const Tensor attn_flat = Flat(a->attn, wd.n);
  if (mask & kParamO) GISP_RETURN_IF_ERROR(be->Gemm(g->o_proj, d, true, attn_flat, false, 1, 1));
  if (o_bias) GISP_RETURN_IF_ERROR(be->ColumnSum(g->o_bias, d));
  GISP_ASSIGN_OR_RETURN(Tensor d_attn, ws->Get("bwd.d_attn", a->attn.shape()));
  GISP_RETURN_IF_ERROR(be->Gemm(Flat(d_attn, wd.n), d, false, w.o_proj, false, 1.0f, 0.0f));
  GISP_ASSIGN_OR_RETURN(Tensor d_q, ws->Get("bwd.d_q", a->q.shape()));
  GISP_ASSIGN_OR_RETURN(Tensor d_k, ws->Get("bwd.d_k", a->k.shape()));
  GISP_ASSIGN_OR_RETURN(Tensor d_v, ws->Get("bwd.d_v", a->v.shape()));
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(wd.dh)));
  GISP_RETURN_IF_ERROR(be->AttentionBackward(d_q, d_k, d_v, d_attn, a->q, a->k, a->v, a->attn,
                                             a->lse, kv_map, scale));
  GISP_RETURN_IF_ERROR(be->Rope(d_q, ctx.rope_cos, ctx.rope_sin, 0, true));
  GISP_RETURN_IF_ERROR(be->Rope(d_k, ctx.rope_cos, ctx.rope_sin, 0, true));
  const Tensor dq = Flat(d_q, wd.n), dk = Flat(d_k, wd.n), dv = Flat(d_v, wd.n);
  if (qkv_bias) {
    GISP_RETURN_IF_ERROR(be->ColumnSum(g->q_bias, dq));
    GISP_RETURN_IF_ERROR(be->ColumnSum(g->k_bias, dk));
    GISP_RETURN_IF_ERROR(be->ColumnSum(g->v_bias, dv));
  }
  if (mask & kParamQ) GISP_RETURN_IF_ERROR(be->Gemm(g->q_proj, dq, true, a->h1, false, 1, 1));
  if (mask & kParamK) GISP_RETURN_IF_ERROR(be->Gemm(g->k_proj, dk, true, a->h1, false, 1, 1));
  if (mask & kParamV) GISP_RETURN_IF_ERROR(be->Gemm(g->v_proj, dv, true, a->h1, false, 1, 1));
  if (!need_dx && !norms) return absl::OkStatus();
  GISP_RETURN_IF_ERROR(be->Gemm(d_h, dq, false, w.q_proj, false, 1.0f, 0.0f));
  GISP_RETURN_IF_ERROR(be->Gemm(d_h, dk, false, w.k_proj, false, 1.0f, 1.0f));
  GISP_RETURN_IF_ERROR(be->Gemm(d_h, dv, false, w.v_proj, false, 1.0f, 1.0f));
  return be->RmsNormBackward(d, norms ? g->input_norm : Tensor(), d_h, x, w.input_norm,
                             a->inv_rms1);
}

}  // namespace gisp
