#include "gisp/export/gguf_export.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "gisp/export/gguf_tokenizer.h"
#include "gisp/export/gguf_writer.h"
#include "gisp/export/padded_layer.h"
#include "gisp/export/regroup.h"

namespace gisp {
namespace {

// One layer as written: its regrouped attention (absent when heads == 0) and MLP width.
struct LayerPlan {
  int64_t heads = 0, kv_heads = 0, ffn = 0;
  GroupedLayout layout;
};

// `output_bias`: the layer has an o_proj or down_proj bias. llama.cpp skips a block without
// heads (or a layer without MLP channels) entirely, which would drop that bias, so such a layer
// keeps one zero head and one zero channel: zero q/k/v rows and biases give a zero attention
// output, a zero gate row and bias give silu(0) * 0 = 0, and only the biases remain.
LayerPlan PlanLayer(const LayerShape& s, bool first, bool output_bias) {
  LayerPlan p;
  if (s.n_heads == 0) {
    if (first || output_bias) {  // llama.cpp takes the head size from layer 0: one zero head
      p.layout.group = 1;
      p.layout.kv_src = {-1};
      p.layout.q_src = {-1};
    }
  } else {
    // The group size with the fewest attention parameters (K/V slots + query slots); ties go
    // to the larger group (padding rather than duplicated K/V).
    int64_t best_g = 1, best_cost = -1;
    for (int64_t g = 1; g <= MaxGroup(s); ++g) {
      const int64_t cost = KvSlots(s, g) * (1 + g);
      if (best_cost < 0 || cost <= best_cost) best_g = g, best_cost = cost;
    }
    p.layout = GroupLayer(s, best_g, KvSlots(s, best_g));
  }
  p.kv_heads = static_cast<int64_t>(p.layout.kv_src.size());
  p.heads = static_cast<int64_t>(p.layout.q_src.size());
  // llama.cpp skips a layer with no MLP entirely, attention included.
  p.ffn = s.intermediate > 0 ? s.intermediate : (p.heads > 0 || output_bias ? 1 : 0);
  return p;
}

// HF's rotate-half RoPE pairs (i, i + Dh/2) within each head; llama.cpp's llama/deci graphs
// pair (2i, 2i + 1). Row 2i + half of a head takes HF row half * Dh/2 + i (what llama.cpp's
// converter does to q_proj and k_proj).
absl::StatusOr<Tensor> PermuteRope(const Tensor& in, int64_t head_dim) {
  GISP_ASSIGN_OR_RETURN(Tensor out, Tensor::HostUninitialized(in.shape(), in.dtype()));
  const size_t row = (in.rank() == 1 ? 1 : static_cast<size_t>(in.dim(1))) * DTypeSize(in.dtype());
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < in.dim(0) / head_dim; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t k = 0; k < 2; ++k) {
        std::memcpy(static_cast<char*>(out.raw()) + (h * head_dim + 2 * i + k) * row,
                    static_cast<const char*>(in.raw()) + (h * head_dim + k * half + i) * row, row);
      }
    }
  }
  return out;
}

GgmlType TypeOf(DType d) {
  return d == DType::kF16 ? GgmlType::kF16 : d == DType::kBF16 ? GgmlType::kBF16 : GgmlType::kF32;
}

// llama3 RoPE scaling as llama.cpp applies it: per-frequency factors in rope_freqs.weight.
std::vector<float> Llama3RopeFactors(const LlamaConfig& c) {
  const RopeScaling& rs = c.rope_scaling;
  const double low_wavelen = rs.original_max_position_embeddings / rs.low_freq_factor;
  const double high_wavelen = rs.original_max_position_embeddings / rs.high_freq_factor;
  std::vector<float> factors;
  for (int64_t i = 0; i < c.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(c.rope_theta, static_cast<double>(i) / c.head_dim);
    const double wavelen = 2 * M_PI / freq;
    double f = 1;
    if (wavelen > low_wavelen) {
      f = rs.factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) /
                            (rs.high_freq_factor - rs.low_freq_factor);
      f = 1 / ((1 - smooth) / rs.factor + smooth);
    }
    factors.push_back(static_cast<float>(f));
  }
  return factors;
}

}  // namespace

absl::StatusOr<GgufExportInfo> ExportGguf(const std::string& path, const SlicedModel& model,
                                          DType storage_dtype, const std::string& tokenizer_dir) {
  const LlamaConfig& c = model.config;
  GISP_RETURN_IF_ERROR(c.Validate());
  GISP_CHECK_ARG(c.head_dim % 2 == 0, "GGUF: RoPE needs an even head_dim, got ", c.head_dim);

  std::vector<LayerPlan> plans;
  bool uniform = true;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerWeights& lw = model.weights.layers[static_cast<size_t>(l)];
    plans.push_back(PlanLayer(c.layers[static_cast<size_t>(l)], l == 0,
                              !lw.o_bias.empty() || !lw.down_bias.empty()));
    const LayerPlan& p = plans.back();
    uniform = uniform && p.heads > 0 && p.ffn > 0 && p.heads == plans[0].heads &&
              p.kv_heads == plans[0].kv_heads && p.ffn == plans[0].ffn;
  }
  GgufExportInfo info;
  info.architecture = !uniform ? "deci" : c.model_type == "qwen2" ? "qwen2" : "llama";
  GISP_CHECK_ARG(info.architecture != "deci" || c.model_type != "qwen2" ||
                     c.rope_scaling.type == RopeScaling::Type::kNone,
                 "GGUF: a non-uniform Qwen2 model with RoPE scaling cannot be expressed");
  // `qwen2` computes RoPE in HF's layout; `llama` and `deci` need the interleaved one. A
  // non-uniform Qwen2 model becomes `deci` with permuted Q/K, which is the same function.
  const bool permute = info.architecture != "qwen2";
  const std::string a = info.architecture;

  GgufWriter w;
  w.AddString("general.architecture", a);
  w.AddString("general.name", absl::StrCat("gisp-pruned-", c.model_type));
  w.AddU32("general.alignment", 32);
  w.AddU32("general.file_type", storage_dtype == DType::kF32   ? 0
                                : storage_dtype == DType::kF16 ? 1
                                                               : 32);  // LLAMA_FTYPE_*
  w.AddU32(a + ".vocab_size", static_cast<uint32_t>(c.vocab_size));
  w.AddU32(a + ".context_length", static_cast<uint32_t>(c.max_position_embeddings));
  w.AddU32(a + ".embedding_length", static_cast<uint32_t>(c.hidden_size));
  w.AddU32(a + ".block_count", static_cast<uint32_t>(c.num_layers));
  if (uniform) {
    w.AddU32(a + ".feed_forward_length", static_cast<uint32_t>(plans[0].ffn));
    w.AddU32(a + ".attention.head_count", static_cast<uint32_t>(plans[0].heads));
    w.AddU32(a + ".attention.head_count_kv", static_cast<uint32_t>(plans[0].kv_heads));
  } else {
    std::vector<uint32_t> ffn, heads, kv;
    for (const LayerPlan& p : plans) {
      ffn.push_back(static_cast<uint32_t>(p.ffn));
      heads.push_back(static_cast<uint32_t>(p.heads));
      kv.push_back(static_cast<uint32_t>(p.kv_heads));
    }
    w.AddU32Array(a + ".feed_forward_length", ffn);
    w.AddU32Array(a + ".attention.head_count", heads);
    w.AddU32Array(a + ".attention.head_count_kv", kv);
  }
  w.AddU32(a + ".attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.AddU32(a + ".attention.value_length", static_cast<uint32_t>(c.head_dim));
  w.AddU32(a + ".rope.dimension_count", static_cast<uint32_t>(c.head_dim));
  w.AddF32(a + ".rope.freq_base", static_cast<float>(c.rope_theta));
  w.AddF32(a + ".attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  if (c.rope_scaling.type == RopeScaling::Type::kLinear) {
    w.AddString(a + ".rope.scaling.type", "linear");
    w.AddF32(a + ".rope.scaling.factor", static_cast<float>(c.rope_scaling.factor));
  }
  GISP_RETURN_IF_ERROR(AddGgufTokenizer(tokenizer_dir, c.vocab_size, &w));

  // Tensors. Keep every derived tensor alive until Write().
  const GgmlType wt = TypeOf(storage_dtype);
  const LlamaWeights& src = model.weights;
  w.AddTensor("token_embd.weight", src.embed, wt);
  info.parameters += src.embed.numel();
  w.AddTensor("output_norm.weight", src.final_norm, GgmlType::kF32);
  info.parameters += src.final_norm.numel();
  if (!c.tie_word_embeddings) {
    w.AddTensor("output.weight", src.lm_head, wt);
    info.parameters += src.lm_head.numel();
  }
  Tensor rope_freqs;
  if (c.rope_scaling.type == RopeScaling::Type::kLlama3) {
    const std::vector<float> f = Llama3RopeFactors(c);
    GISP_ASSIGN_OR_RETURN(rope_freqs, Tensor::Host({static_cast<int64_t>(f.size())}));
    std::memcpy(rope_freqs.raw(), f.data(), f.size() * sizeof(float));
    w.AddTensor("rope_freqs.weight", rope_freqs, GgmlType::kF32);
  }
  std::vector<LayerWeights> padded(static_cast<size_t>(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const size_t i = static_cast<size_t>(l);
    const LayerPlan& p = plans[i];
    GISP_ASSIGN_OR_RETURN(padded[i], PadLayer(src.layers[i], c.head_dim, p.layout, p.ffn));
    LayerWeights& lw = padded[i];
    const std::string b = absl::StrCat("blk.", l, ".");
    auto add = [&](const std::string& name, const Tensor& t, GgmlType type) {
      w.AddTensor(b + name, t, type);
      info.parameters += t.numel();
    };
    if (p.heads > 0) {
      if (permute) {
        GISP_ASSIGN_OR_RETURN(lw.q_proj, PermuteRope(lw.q_proj, c.head_dim));
        GISP_ASSIGN_OR_RETURN(lw.k_proj, PermuteRope(lw.k_proj, c.head_dim));
        if (!lw.q_bias.empty()) {
          GISP_ASSIGN_OR_RETURN(lw.q_bias, PermuteRope(lw.q_bias, c.head_dim));
          GISP_ASSIGN_OR_RETURN(lw.k_bias, PermuteRope(lw.k_bias, c.head_dim));
        }
      }
      add("attn_norm.weight", lw.input_norm, GgmlType::kF32);
      add("attn_q.weight", lw.q_proj, wt);
      add("attn_k.weight", lw.k_proj, wt);
      add("attn_v.weight", lw.v_proj, wt);
      add("attn_output.weight", lw.o_proj, wt);
      // llama.cpp's llama and deci loaders take every linear bias as optional
      // (TENSOR_NOT_REQUIRED), under these names.
      if (!lw.q_bias.empty()) {
        add("attn_q.bias", lw.q_bias, GgmlType::kF32);
        add("attn_k.bias", lw.k_bias, GgmlType::kF32);
        add("attn_v.bias", lw.v_bias, GgmlType::kF32);
      }
      if (!lw.o_bias.empty()) add("attn_output.bias", lw.o_bias, GgmlType::kF32);
    }
    if (p.ffn > 0) {
      add("ffn_norm.weight", lw.post_norm, GgmlType::kF32);
      add("ffn_gate.weight", lw.gate_proj, wt);
      add("ffn_up.weight", lw.up_proj, wt);
      add("ffn_down.weight", lw.down_proj, wt);
      if (!lw.gate_bias.empty()) {
        add("ffn_gate.bias", lw.gate_bias, GgmlType::kF32);
        add("ffn_up.bias", lw.up_bias, GgmlType::kF32);
      }
      if (!lw.down_bias.empty()) add("ffn_down.bias", lw.down_bias, GgmlType::kF32);
    }
  }
  GISP_RETURN_IF_ERROR(w.Write(path));
  return info;
}

}  // namespace gisp
