// Rotary embedding tables: cos/sin of position * inv_freq for the config's theta and scaling.
// Computed in double and rounded once to f32 (HF computes the angles in f32, which at position
// p has an absolute angle error of about p * 6e-8 rad; the fixtures use exact angles).
#ifndef GISP_MODEL_ROPE_TABLE_H_
#define GISP_MODEL_ROPE_TABLE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "gisp/model/config.h"
#include "gisp/tensor/tensor.h"

namespace gisp {

// inv_freq[i] for i < head_dim / 2, after rope_scaling (none, linear, llama3).
std::vector<double> RopeInverseFrequencies(const LlamaConfig& config);

struct RopeTable {
  Tensor cos;  // [P, Dh/2] host
  Tensor sin;  // [P, Dh/2] host
};

// Tables for positions 0..positions-1 in `dtype` (f32, or f64 for the double oracle).
absl::StatusOr<RopeTable> MakeRopeTable(const LlamaConfig& config, int64_t positions,
                                        DType dtype = DType::kF32);

}  // namespace gisp

#endif  // GISP_MODEL_ROPE_TABLE_H_
