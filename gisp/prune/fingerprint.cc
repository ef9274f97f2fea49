#include "gisp/prune/fingerprint.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gisp/base/hash.h"
#include "gisp/base/status.h"

namespace gisp {

absl::StatusOr<std::string> FingerprintHostWeights(const LlamaConfig& c,
                                                   const LlamaWeights& weights) {
  Fingerprint64 fp;
  for (int64_t v : {c.vocab_size, c.hidden_size, c.num_layers, c.num_heads, c.num_kv_heads,
                    c.head_dim, c.intermediate_size}) {
    fp.UpdateInt(v);
  }
  fp.UpdateDouble(c.rms_norm_eps);
  fp.UpdateDouble(c.rope_theta);
  fp.UpdateInt(static_cast<int64_t>(c.rope_scaling.type));
  fp.UpdateDouble(c.rope_scaling.factor);
  fp.UpdateInt(c.tie_word_embeddings);
  LlamaWeights w = weights;
  absl::Status status;
  std::vector<float> chunk;
  ForEachParameter(c, &w, [&](const std::string& name, Tensor* t) {
    if (!status.ok()) return;
    if (t->empty()) {
      status = absl::InvalidArgumentError(absl::StrCat("weights: tensor ", name, " is missing"));
      return;
    }
    fp.Update(name);
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
