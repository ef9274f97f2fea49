// Test helpers for gisp/io: scratch directories, hand-made (possibly broken) safetensors files,
// random tensors and tiny model configs.
#ifndef GISP_IO_TEST_UTIL_H_
#define GISP_IO_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gisp/base/dtype.h"
#include "gisp/model/config.h"
#include "gisp/model/weights.h"
#include "gisp/tensor/tensor.h"

namespace gisp {
namespace testing_io {

// A new empty directory under $TEST_TMPDIR (or /tmp), unique per call.
std::string NewTestDir(absl::string_view name);

// Writes `contents` to `path`, replacing it. Helpers report setup failures with ADD_FAILURE.
void WriteBytes(const std::string& path, absl::string_view contents);
std::string ReadBytes(const std::string& path);

// 8-byte little-endian length of `header`, `header`, then `data`: a safetensors file whose header
// text is given verbatim (so tests can make it wrong).
std::string RawSafetensors(absl::string_view header, absl::string_view data);

// A host tensor of `dtype` with values from a fixed-seed generator (integers for i32).
Tensor RandomTensor(const Shape& shape, DType dtype, uint32_t seed);

// Same dtype, shape and bytes.
bool BitEqual(const Tensor& a, const Tensor& b);

// `t` converted to `dtype` (a new host tensor).
Tensor Converted(const Tensor& t, DType dtype);

// A tiny llama config: V=32, D=16, L=2, H=4, KV=2, Dh=4, F=24.
LlamaConfig TinyConfig();

// Random weights for `config` in `dtype` (lm_head shares embed when tied).
LlamaWeights RandomWeights(const LlamaConfig& config, DType dtype, uint32_t seed);

// Names of the files in `dir` (not recursive), sorted.
std::vector<std::string> ListDir(const std::string& dir);

}  // namespace testing_io
}  // namespace gisp

#endif  // GISP_IO_TEST_UTIL_H_
