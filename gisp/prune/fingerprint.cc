#include "gisp/prune/fingerprint.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/hash.h"
#include "gisp/base/status.h"

namespace gisp {

absl::StatusOr<std::string> FingerprintHostWeights(const LlamaConfig& c,
                                                   const LlamaWeights& weights) {
  // docs/formats.md, "Fingerprints": every field below, in this order.
  Fingerprint fp;
  fp.UpdateString(kModelFingerprintTag);
  for (int64_t v : {c.vocab_size, c.hidden_size, c.num_layers, c.num_heads, c.num_kv_heads,
                    c.head_dim, c.intermediate_size}) {
    fp.UpdateInt(v);
  }
  fp.UpdateDouble(c.rms_norm_eps);
  fp.UpdateDouble(c.rope_theta);
  const char* rope = "none";
  switch (c.rope_scaling.type) {
    case RopeScaling::Type::kNone:
      break;
    case RopeScaling::Type::kLinear:
      rope = "linear";
      break;
    case RopeScaling::Type::kLlama3:
      rope = "llama3";
      break;
  }
  fp.UpdateString(rope);
  fp.UpdateDouble(c.rope_scaling.factor);
  fp.UpdateDouble(c.rope_scaling.low_freq_factor);
  fp.UpdateDouble(c.rope_scaling.high_freq_factor);
  fp.UpdateInt(c.rope_scaling.original_max_position_embeddings);
  fp.UpdateInt(c.tie_word_embeddings ? 1 : 0);
  fp.UpdateInt(c.attention_bias ? 1 : 0);
  LlamaWeights w = weights;
  absl::Status status;
  std::vector<float> chunk;
  ForEachParameter(c, &w, [&](const std::string& name, Tensor* t) {
    if (!status.ok()) return;
    if (t->empty()) {
      status = absl::InvalidArgumentError(absl::StrCat("weights: tensor ", name, " is missing"));
      return;
    }
    fp.UpdateString(name);
    fp.UpdateInt(static_cast<int64_t>(t->shape().size()));
    for (int64_t d : t->shape()) fp.UpdateInt(d);
    const size_t n = static_cast<size_t>(t->numel());
    constexpr size_t kChunk = 1 << 20;
    for (size_t i = 0; i < n; i += kChunk) {
      const size_t m = std::min(kChunk, n - i);
      chunk.resize(m);
      ConvertElements(t->dtype(), static_cast<const char*>(t->raw()) + i * DTypeSize(t->dtype()),
                      DType::kF32, chunk.data(), m);
      fp.Update(chunk.data(), m * sizeof(float));
    }
  });
  GISP_RETURN_IF_ERROR(status);
  return fp.Hex();
}

absl::StatusOr<std::string> ModelFingerprint(const LlamaModel& model) {
  // The host weights the model was created from (memory-mapped checkpoints), never a download
  // of the device copy, which pruning changes and which may be on a GPU.
  return FingerprintHostWeights(model.source_config(), model.host_weights());
}

}  // namespace gisp
