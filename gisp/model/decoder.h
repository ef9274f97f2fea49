// KvCacheDecoder: incremental decoding of one sequence with per-layer key/value caches, for
// greedy generation. Reuses the model's weights and backend; works with pruned (heterogeneous)
// layer shapes.
#ifndef GISP_MODEL_DECODER_H_
#define GISP_MODEL_DECODER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gisp/model/llama_model.h"
#include "gisp/model/workspace.h"

namespace gisp {

class KvCacheDecoder {
 public:
  // `model` must outlive the decoder and not change while it is used.
  explicit KvCacheDecoder(LlamaModel* model);

  void Reset() { length_ = 0; }
  int64_t length() const { return length_; }

  // Appends `tokens` (at least one) and returns the host f32 logits [V] of the last one.
  absl::StatusOr<Tensor> Append(absl::Span<const int32_t> tokens);

 private:
  absl::Status Reserve(int64_t positions);

  LlamaModel* model_;
  Workspace ws_;
  std::vector<Tensor> k_cache_, v_cache_;  // per layer [1, capacity, KVl, Dh]
  int64_t capacity_ = 0;
  int64_t length_ = 0;
  Tensor cos_, sin_;
};

}  // namespace gisp

#endif  // GISP_MODEL_DECODER_H_
