// The whole model on every backend (f32) against the same model on the reference backend in
// f64 (a double-precision oracle independent of oneDNN and of the fast kernels), a
// finite-difference check of the full backward pass in double, and the behaviour of
// checkpointing, gradient selection and accumulation. PyTorch parity lives in
// gisp/integration/torch_parity_test.cc.
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>

#include "gisp/backend/backend.h"
#include "gisp/model/llama_model.h"
#include "gisp/model/memory_estimate.h"
#include "gisp/testing/backends.h"
#include "gisp/testing/compare.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

using testing::Compare;
using testing::RandomBatch;
using testing::RandomWeights;
using testing::SmallConfig;

LlamaConfig GqaConfig() {
  LlamaConfig c = SmallConfig(/*vocab=*/53, /*hidden=*/30, /*layers=*/3, /*heads=*/6,
                              /*kv=*/2, /*head_dim=*/6, /*ffn=*/37);
  c.rope_theta = 500.0;
  return c;
}

// A pruned-looking config: per-layer widths differ, a non-uniform KV map, an empty attention
// block and an empty MLP; every linear has a bias (llama attention_bias: q/k/v/o, mlp_bias:
// gate/up/down), including the empty blocks' zero-width ones.
LlamaConfig PrunedConfig() {
  LlamaConfig c = GqaConfig();
  c.attention_bias = true;
  c.mlp_bias = true;
  c.layers[0] = {4, 2, {0, 1, 1, 1}, 19};
  c.layers[1] = {0, 0, {}, 37};
  c.layers[2] = {3, 1, {0, 0, 0}, 0};
  return c;
}

std::unique_ptr<LlamaModel> MakeModel(const LlamaConfig& c, Backend* backend,
                                      LlamaModel::Options options = {}) {
  auto model = LlamaModel::Create(c, RandomWeights(c, 7), backend, options);
  EXPECT_TRUE(model.ok()) << model.status();
  return std::move(model).value();
}

void ExpectGradientsClose(const LlamaConfig& c, LlamaGradients* got, LlamaGradients* want,
                          double max_nmse) {
  std::vector<std::pair<std::string, Tensor>> a, b;
  ForEachParameter(c, got, [&](const std::string& n, Tensor* t) { a.push_back({n, *t}); });
  ForEachParameter(c, want, [&](const std::string& n, Tensor* t) { b.push_back({n, *t}); });
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].second.empty(), b[i].second.empty()) << a[i].first;
    if (a[i].second.empty()) continue;
    const testing::Diff d = Compare(a[i].second, b[i].second);
    EXPECT_LE(d.nmse, max_nmse) << a[i].first << ": " << d.ToString();
  }
}

class ModelTest : public ::testing::TestWithParam<LlamaConfig (*)()> {
 protected:
  std::unique_ptr<Backend> cpu_ = CreateCpuBackend().value();
  std::unique_ptr<Backend> ref_ = CreateReferenceBackend();
};

// The whole model on every backend (f32) against the f64 reference oracle: one test body,
// instantiated per backend; unavailable backends are skipped with the reason.
using OracleParam = std::tuple<LlamaConfig (*)(), std::string>;

class BackendOracleTest : public ::testing::TestWithParam<OracleParam> {
 protected:
  void SetUp() override {
    auto be = testing::CreateTestBackend(std::get<1>(GetParam()));
    if (!be.ok())
      GTEST_SKIP() << std::get<1>(GetParam()) << " backend unavailable: " << be.status();
    backend_ = std::move(be).value();
  }
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Backend> ref_ = CreateReferenceBackend();
};

TEST_P(BackendOracleTest, MatchesDoublePrecisionOracle) {
  const LlamaConfig c = std::get<0>(GetParam())();
  LlamaModel::Options f64;
  f64.compute_dtype = DType::kF64;
  auto fast = MakeModel(c, backend_.get());
  auto oracle = MakeModel(c, ref_.get(), f64);
  const Batch batch = RandomBatch(c, 2, 11, 3);
  const GradRequest all = GradRequest::All(c);
  LlamaGradients g_fast = fast->AllocateGradients(all).value();
  LlamaGradients g_ref = oracle->AllocateGradients(all).value();
  auto r_fast = fast->ForwardBackward(batch, all, &g_fast);
  auto r_ref = oracle->ForwardBackward(batch, all, &g_ref);
  ASSERT_TRUE(r_fast.ok()) << r_fast.status();
  ASSERT_TRUE(r_ref.ok()) << r_ref.status();
  EXPECT_NEAR(r_fast->loss, r_ref->loss, 1e-5 * r_ref->loss);
  EXPECT_EQ(r_fast->labelled, 2 * 10);
  // Gradients come back to the host for comparison.
  ForEachParameter(c, &g_fast, [&](const std::string&, Tensor* t) {
    if (!t->empty()) *t = testing::ToHost(backend_.get(), *t);
  });
  ExpectGradientsClose(c, &g_fast, &g_ref, 1e-9);
  Tensor logits_fast, logits_ref;
  ASSERT_TRUE(fast->Forward(batch, nullptr, &logits_fast).ok());
  ASSERT_TRUE(oracle->Forward(batch, nullptr, &logits_ref).ok());
  EXPECT_LE(Compare(logits_fast, logits_ref).rel_inf, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(ShapesAndBackends, BackendOracleTest,
                         ::testing::Combine(::testing::Values(&GqaConfig, &PrunedConfig),
                                            ::testing::ValuesIn(testing::TestBackendNames())),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) == &GqaConfig ? "gqa"
                                                                                    : "pruned") +
                                  "_" + std::get<1>(info.param);
                         });

TEST_P(ModelTest, FullBackwardMatchesFiniteDifferencesInDouble) {
  const LlamaConfig c = GetParam()();
  LlamaModel::Options f64;
  f64.compute_dtype = DType::kF64;
  auto model = MakeModel(c, ref_.get(), f64);
  const Batch batch = RandomBatch(c, 2, 7, 5);
  const GradRequest all = GradRequest::All(c);
  LlamaGradients g = model->AllocateGradients(all).value();
  ASSERT_TRUE(model->ForwardBackward(batch, all, &g).ok());
  // Directional derivative along a random direction in every parameter tensor at once.
  std::mt19937 rng(11);
  std::vector<std::pair<Tensor, Tensor>> params;  // (weight, grad)
  LlamaWeights* w = model->mutable_weights();
  std::vector<Tensor> ws, gs;
  ForEachParameter(c, w, [&](const std::string&, Tensor* t) { ws.push_back(*t); });
  ForEachParameter(c, &g, [&](const std::string&, Tensor* t) { gs.push_back(*t); });
  std::vector<std::vector<double>> dirs;
  double analytic = 0;
  for (size_t i = 0; i < ws.size(); ++i) {
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> dir(static_cast<size_t>(ws[i].numel()));
    for (size_t j = 0; j < dir.size(); ++j) {
      dir[j] = u(rng);
      analytic += dir[j] * gs[i].data<double>()[j];
    }
    dirs.push_back(std::move(dir));
  }
  auto shifted_loss = [&](double h) {
    for (size_t i = 0; i < ws.size(); ++i) {
      for (size_t j = 0; j < dirs[i].size(); ++j) ws[i].data<double>()[j] += h * dirs[i][j];
    }
    const double loss = model->Forward(batch).value().loss;
    for (size_t i = 0; i < ws.size(); ++i) {
      for (size_t j = 0; j < dirs[i].size(); ++j) ws[i].data<double>()[j] -= h * dirs[i][j];
    }
    return loss;
  };
  const double h = 1e-6;
  const double numeric = (shifted_loss(h) - shifted_loss(-h)) / (2 * h);
  EXPECT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::fabs(numeric)))
      << "analytic " << analytic << " numeric " << numeric;
}

TEST_P(ModelTest, CheckpointingDoesNotChangeResults) {
  const LlamaConfig c = GetParam()();
  // Recomputing a layer runs the same kernels on the same inputs: bit-identical gradients.
  LlamaModel::Options recompute;
  recompute.keep_activation_bytes = 0;
  auto kept = MakeModel(c, cpu_.get());
  auto checkpointed = MakeModel(c, cpu_.get(), recompute);
  const Batch batch = RandomBatch(c, 3, 9, 8);
  const GradRequest all = GradRequest::All(c);
  LlamaGradients g1 = kept->AllocateGradients(all).value();
  LlamaGradients g2 = checkpointed->AllocateGradients(all).value();
  ASSERT_TRUE(kept->ForwardBackward(batch, all, &g1).ok());
  ASSERT_TRUE(checkpointed->ForwardBackward(batch, all, &g2).ok());
  ExpectGradientsClose(c, &g1, &g2, 0.0);
}

TEST_P(ModelTest, ChunkedLogitsGiveTheSameGradients) {
  // Chunks change GEMM shapes (so rounding), not the math.
  const LlamaConfig c = GetParam()();
  LlamaModel::Options chunked;
  chunked.logits_chunk_floats = 4 * c.vocab_size;
  auto whole = MakeModel(c, cpu_.get());
  auto parts = MakeModel(c, cpu_.get(), chunked);
  const Batch batch = RandomBatch(c, 3, 9, 8);
  const GradRequest all = GradRequest::All(c);
  LlamaGradients g1 = whole->AllocateGradients(all).value();
  LlamaGradients g2 = parts->AllocateGradients(all).value();
  auto r1 = whole->ForwardBackward(batch, all, &g1);
  auto r2 = parts->ForwardBackward(batch, all, &g2);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_NEAR(r1->loss, r2->loss, 1e-6 * r1->loss);
  ExpectGradientsClose(c, &g1, &g2, 1e-11);
}

TEST_P(ModelTest, SelectedGradientsEqualFullOnesAndAccumulate) {
  const LlamaConfig c = GetParam()();
  auto model = MakeModel(c, cpu_.get());
  const Batch batch = RandomBatch(c, 2, 8, 9);
  const GradRequest all = GradRequest::All(c);
  LlamaGradients full = model->AllocateGradients(all).value();
  ASSERT_TRUE(model->ForwardBackward(batch, all, &full).ok());
  // Only the MLP of the top layer and o_proj of layer 1.
  GradRequest some = GradRequest::Layers(c, 0);
  some.layers[2] = kParamGate | kParamUp | kParamDown;
  some.layers[1] = kParamO;
  LlamaGradients part = model->AllocateGradients(some).value();
  EXPECT_TRUE(part.embed.empty());
  EXPECT_TRUE(part.layers[0].q_proj.empty());
  EXPECT_TRUE(part.layers[1].q_proj.empty());
  ASSERT_TRUE(model->ForwardBackward(batch, some, &part).ok());
  EXPECT_LE(Compare(part.layers[2].down_proj, full.layers[2].down_proj).nmse, 1e-12);
  EXPECT_LE(Compare(part.layers[1].o_proj, full.layers[1].o_proj).nmse, 1e-12);
  // A second pass accumulates: twice the gradient.
  ASSERT_TRUE(model->ForwardBackward(batch, some, &part).ok());
  Tensor twice = testing::CopyAs(full.layers[1].o_proj, DType::kF32);
  for (int64_t i = 0; i < twice.numel(); ++i) twice.f32()[i] *= 2;
  EXPECT_LE(Compare(part.layers[1].o_proj, twice).nmse, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ModelTest, ::testing::Values(&GqaConfig, &PrunedConfig));

// A model whose weights cannot fit is refused before anything is allocated, with the estimate and
// the free memory. The host "weights" here are views of one small buffer with the huge shapes
// the config implies: Create must refuse on the shapes, before reading a byte.
TEST(ModelMemoryTest, ModelLargerThanTheDeviceIsRefusedBeforeAllocating) {
  LlamaConfig c = SmallConfig(/*vocab=*/128256, /*hidden=*/16384, /*layers=*/126,
                              /*heads=*/128, /*kv=*/8, /*head_dim=*/128, /*ffn=*/53248);
  auto backend = CreateCpuBackend().value();
  const MemoryInfo memory = backend->QueryMemory().value();
  const int64_t need = WeightBytes(c, DType::kF32, DType::kF32);
  ASSERT_GT(need, memory.total_bytes) << "a 405B-parameter model in f32 exceeds any test machine";
  auto small = Tensor::Host({16}).value();
  std::map<std::string, Shape> shapes;
  for (const ParameterSpec& spec : ParameterSpecs(c)) shapes[spec.name] = spec.shape;
  LlamaWeights w;
  w.layers.resize(static_cast<size_t>(c.num_layers));
  ForEachParameter(c, &w, [&](const std::string& name, Tensor* t) {
    *t = Tensor(small.buffer(), 0, shapes[name], DType::kF32);
  });
  auto model = LlamaModel::Create(c, w, backend.get());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kResourceExhausted) << model.status();
  EXPECT_NE(model.status().message().find("weights"), std::string::npos) << model.status();
  EXPECT_NE(model.status().message().find("free"), std::string::npos) << model.status();
}

TEST(ModelMemoryTest, PassEstimateCoversWhatAPassAllocates) {
  // With pure checkpointing the workspace plus the gradient buffers must stay within the
  // estimate, and the estimate must not be wildly pessimistic (within 2x).
  const LlamaConfig c = GqaConfig();
  auto backend = CreateCpuBackend().value();
  LlamaModel::Options options;
  options.keep_activation_bytes = 0;
  options.logits_chunk_floats = 4 * c.vocab_size;
  auto model = MakeModel(c, backend.get(), options);
  const GradRequest request = GradRequest::Layers(c, kParamLinears);
  LlamaGradients g = model->AllocateGradients(request).value();
  ASSERT_TRUE(model->ForwardBackward(RandomBatch(c, 2, 9, 1), request, &g).ok());
  int64_t grads = 0;
  ForEachParameter(c, &g, [&](const std::string&, Tensor* t) {
    if (!t->empty()) grads += static_cast<int64_t>(t->bytes());
  });
  const int64_t used = grads + static_cast<int64_t>(model->workspace_bytes());
  const int64_t estimate =
      CalibrationPassBytes(c, request, 2, 9, options.logits_chunk_floats, DType::kF32);
  EXPECT_LE(used, estimate * 5 / 4) << "used " << used << ", estimated " << estimate;
  EXPECT_GE(used * 2, estimate) << "used " << used << ", estimated " << estimate;
  EXPECT_TRUE(model->CheckPassFits(request, 2, 9).ok());
  EXPECT_EQ(model->CheckPassFits(request, 1 << 20, 1 << 16).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(ModelMemoryTest, EstimatesCountEveryBias) {
  // Biases are small tensors in the compute dtype: q/k/v [Hl*Dh]/[KVl*Dh], o [D], gate/up [Fl],
  // down [D] per layer, and their gradients only under kParamBiases.
  const LlamaConfig biased = PrunedConfig();
  LlamaConfig plain = biased;
  plain.attention_bias = plain.mlp_bias = false;
  int64_t biases = 0;
  for (const LayerShape& s : biased.layers) {
    biases += (s.n_heads + 2 * s.n_kv_heads) * biased.head_dim + 2 * s.intermediate +
              2 * biased.hidden_size;
  }
  EXPECT_EQ(biased.DecoderParameters() - plain.DecoderParameters(), biases);
  EXPECT_EQ(WeightBytes(biased, DType::kBF16, DType::kF32) -
                WeightBytes(plain, DType::kBF16, DType::kF32),
            4 * biases);
  const GradRequest linears = GradRequest::Layers(biased, kParamLinears);
  const GradRequest with_biases = GradRequest::Layers(biased, kParamLinears | kParamBiases);
  const int64_t chunk = 4 * biased.vocab_size;
  EXPECT_EQ(CalibrationPassBytes(biased, linears, 2, 9, chunk, DType::kF32),
            CalibrationPassBytes(plain, linears, 2, 9, chunk, DType::kF32));
  EXPECT_EQ(CalibrationPassBytes(biased, with_biases, 2, 9, chunk, DType::kF32) -
                CalibrationPassBytes(biased, linears, 2, 9, chunk, DType::kF32),
            4 * biases);
}

TEST(ModelInputTest, TokenWeightsScaleTheLoss) {
  const LlamaConfig c = GqaConfig();
  auto cpu = CreateCpuBackend().value();
  auto model = MakeModel(c, cpu.get());
  Batch batch = RandomBatch(c, 2, 6, 4);
  const double mean = model->Forward(batch).value().loss;
  batch.weights = Tensor::Host({2, 6}).value();
  for (int i = 0; i < 12; ++i) batch.weights.f32()[i] = 3.0f;  // sum instead of mean, x3
  auto weighted = model->Forward(batch);
  ASSERT_TRUE(weighted.ok());
  EXPECT_NEAR(weighted->loss, 3.0 * 10 * mean, 1e-4 * weighted->loss);
  EXPECT_NEAR(weighted->nll_sum, 10 * mean, 1e-4 * weighted->nll_sum);
}

TEST(ModelInputTest, BadTokensAreRejectedWithPosition) {
  const LlamaConfig c = GqaConfig();
  auto cpu = CreateCpuBackend().value();
  auto model = MakeModel(c, cpu.get());
  Batch batch = RandomBatch(c, 1, 5, 4);
  batch.tokens.i32()[3] = 53;
  auto r = model->Forward(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("position 3"), std::string::npos) << r.status();
}

TEST(ModelInputTest, WrongWeightShapesAreRejected) {
  const LlamaConfig c = GqaConfig();
  LlamaWeights w = RandomWeights(c, 1);
  w.layers[1].k_proj = Tensor::Host({7, 30}).value();
  auto cpu = CreateCpuBackend().value();
  auto model = LlamaModel::Create(c, w, cpu.get());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("model.layers.1.self_attn.k_proj.weight"),
            std::string::npos)
      << model.status();
}

}  // namespace
}  // namespace gisp
