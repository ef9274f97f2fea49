#include "gisp/io/test_util.h"

#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gtest/gtest.h"

namespace gisp {
namespace testing_io {
namespace {

// Reports a broken fixture as a test failure (the test then fails on its own checks too).
void Die(const std::string& what) { ADD_FAILURE() << "test setup failed: " << what; }

std::atomic<int> dir_counter{0};

}  // namespace

std::string NewTestDir(absl::string_view name) {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string dir =
      absl::StrCat(root != nullptr ? root : "/tmp", "/", name, "_", dir_counter.fetch_add(1));
  if (IsDirectory(dir)) Die(absl::StrCat(dir, " already exists"));
  absl::Status s = MakeDirectories(dir);
  if (!s.ok()) Die(std::string(s.message()));
  return dir;
}

void WriteBytes(const std::string& path, absl::string_view contents) {
  absl::Status s = WriteFileAtomic(path, contents);
  if (!s.ok()) Die(std::string(s.message()));
}

std::string ReadBytes(const std::string& path) {
  absl::StatusOr<std::string> s = ReadFile(path);
  if (!s.ok()) {
    Die(std::string(s.status().message()));
    return "";
  }
  return *s;
}

std::string RawSafetensors(absl::string_view header, absl::string_view data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[i] = static_cast<char>(n & 0xff);
  absl::StrAppend(&out, header, data);
  return out;
}

Tensor RandomTensor(const Shape& shape, DType dtype, uint32_t seed) {
  absl::StatusOr<Tensor> t = Tensor::Host(shape, dtype);
  if (!t.ok()) {
    Die(std::string(t.status().message()));
    return Tensor();
  }
  std::mt19937 rng(seed);
  const size_t n = static_cast<size_t>(t->numel());
  if (dtype == DType::kI32) {
    std::uniform_int_distribution<int32_t> dist(-1000000, 1000000);
    for (size_t i = 0; i < n; ++i) t->i32()[i] = dist(rng);
    return *t;
  }
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> values(n);
  for (double& v : values) v = dist(rng);
  ConvertElements(DType::kF64, values.data(), dtype, t->raw(), n);
  return *t;
}

bool BitEqual(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

Tensor Converted(const Tensor& t, DType dtype) {
  absl::StatusOr<Tensor> out = Tensor::Host(t.shape(), dtype);
  if (!out.ok()) {
    Die(std::string(out.status().message()));
    return Tensor();
  }
  ConvertElements(t.dtype(), t.raw(), dtype, out->raw(), static_cast<size_t>(t.numel()));
  return *out;
}

LlamaConfig TinyConfig() {
  LlamaConfig c;
  c.model_type = "llama";
  c.vocab_size = 32;
  c.hidden_size = 16;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  c.intermediate_size = 24;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.max_position_embeddings = 128;
  c.bos_token_id = 1;
  c.eos_token_id = 2;
  c.FillDenseLayers();
  return c;
}

LlamaWeights RandomWeights(const LlamaConfig& config, DType dtype, uint32_t seed) {
  LlamaWeights w;
  const std::vector<ParameterSpec> specs = ParameterSpecs(config);
  size_t i = 0;
  ForEachParameter(config, &w, [&](const std::string&, Tensor* t) {
    *t = RandomTensor(specs[i].shape, dtype, seed + static_cast<uint32_t>(i));
    ++i;
  });
  if (config.tie_word_embeddings) w.lm_head = w.embed;
  return w;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    Die(absl::StrCat("cannot list ", dir));
    return names;
  }
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace testing_io
}  // namespace gisp
