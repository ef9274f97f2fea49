// Layer streaming (LlamaModel::Options::stream_layers, docs/memory.md): the decoder layers and
// Gbar stay in host memory and each layer is uploaded for its forward and again for its
// backward. These tests check that a streamed run gives the resident run's record (on random
// models, the embedded tiny model and the PyTorch GISP fixtures), that the backend's peak
// allocation drops by what docs/memory.md's formula predicts, and that the memory estimate lets
// a streamed run through where the resident one is refused.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gisp/backend/backend.h"
#include "gisp/base/call_context.h"
#include "gisp/comm/thread_communicator.h"
#include "gisp/data/calibration_sources.h"
#include "gisp/io/checkpoint.h"
#include "gisp/model/decoder.h"
#include "gisp/model/memory_estimate.h"
#include "gisp/prune/gisp_fixture.h"
#include "gisp/prune/pruner.h"
#include "gisp/prune/pruner_testing.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

struct Outcome {
  proto::Record record;
  std::vector<std::vector<double>> raw;     // per step
  std::vector<std::vector<double>> scores;  // per step
  // The backend's allocations over Create and the steps (the calibration passes, scoring and
  // compaction); the final loss's forward-only pass is left out (see docs/memory.md).
  AllocationStats memory;
};

// Prunes a fresh CPU model of `weights` (host tensors) with every step, keeping the scores.
Outcome Prune(const LlamaConfig& config, const LlamaWeights& weights,
              const CalibrationBatches& data, const PrunerOptions& options, bool stream) {
  Outcome out;
  auto backend = CreateCpuBackend().value();
  LlamaModel::Options mo;
  mo.stream_layers = stream;
  auto model = LlamaModel::Create(config, weights, backend.get(), mo);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return out;
  EXPECT_EQ((*model)->streaming(), stream);
  auto pruner = Pruner::Create(model->get(), &data, options);
  EXPECT_TRUE(pruner.ok()) << pruner.status();
  if (!pruner.ok()) return out;
  while (!(*pruner)->done()) {
    const absl::Status s = (*pruner)->Step();
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return out;
    out.raw.push_back((*pruner)->last_raw_scores());
    out.scores.push_back((*pruner)->last_scores());
  }
  out.memory = backend->allocation_stats();
  EXPECT_TRUE((*pruner)->Run().ok());  // the final loss
  out.record = (*pruner)->record();
  return out;
}

// The same kernels run on the same values in both modes, so on one machine the records are the
// same bytes and the scores the same doubles: stronger than the tie band of docs/numerics.md,
// which the cross-library comparisons need.
void ExpectSameRun(const Outcome& streamed, const Outcome& resident) {
  EXPECT_EQ(streamed.record.SerializeAsString(), resident.record.SerializeAsString());
  EXPECT_EQ(streamed.raw, resident.raw);
  EXPECT_EQ(streamed.scores, resident.scores);
  EXPECT_TRUE(streamed.record.complete());
}

TEST(LayerStreamingTest, RandomModelsGiveTheResidentRecord) {
  for (const LlamaConfig& c : {testing::SmallGqa(), testing::SmallMha()}) {
    const CalibrationBatches data = testing::RandomCalibration(c, 7);
    const LlamaWeights w = testing::RandomWeights(c, 17);
    for (bool compact : {true, false}) {
      PrunerOptions o = testing::StepsAndRatio(4, 0.6);
      o.compact = compact;
      SCOPED_TRACE(compact ? "compacted" : "masked");
      ExpectSameRun(Prune(c, w, data, o, true), Prune(c, w, data, o, false));
    }
  }
}

// Forward passes (evaluation) and KV-cache decoding (generation) read the streamed layers too.
TEST(LayerStreamingTest, ForwardAndDecodingMatchTheResidentModel) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c, 2);
  const LlamaWeights w = testing::RandomWeights(c, 17);
  std::vector<std::vector<float>> logits, decoded;
  for (bool stream : {false, true}) {
    auto backend = CreateCpuBackend().value();
    LlamaModel::Options mo;
    mo.stream_layers = stream;
    auto model = LlamaModel::Create(c, w, backend.get(), mo).value();
    Tensor out;
    ASSERT_TRUE(model->Forward(data.batches[0], nullptr, &out).ok());
    logits.emplace_back(out.f32(), out.f32() + out.numel());
    KvCacheDecoder decoder(model.get());
    auto first = decoder.Append({3, 5, 7});
    ASSERT_TRUE(first.ok()) << first.status();
    auto next = decoder.Append({11});
    ASSERT_TRUE(next.ok()) << next.status();
    decoded.emplace_back(first->f32(), first->f32() + first->numel());
    decoded.back().insert(decoded.back().end(), next->f32(), next->f32() + next->numel());
  }
  EXPECT_EQ(logits[0], logits[1]);
  EXPECT_EQ(decoded[0], decoded[1]);
}

// Data-parallel ranks (threads here) with streamed models: the all-reduce runs over the host
// Gbar buffers, and every rank ends with the record of two resident thread ranks.
TEST(LayerStreamingTest, DataParallelRanksStreamToo) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c, 7);
  const LlamaWeights w = testing::RandomWeights(c, 17);
  std::vector<std::string> records;
  for (bool stream : {false, true}) {
    auto comms = testing::MakeThreadCommunicators(2);
    std::vector<std::string> got(2);
    std::vector<absl::Status> status(2);
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r) {
      threads.emplace_back([&, r] {
        auto backend = CreateCpuBackend().value();
        LlamaModel::Options mo;
        mo.stream_layers = stream;
        auto model = LlamaModel::Create(c, w, backend.get(), mo).value();
        PrunerOptions o = testing::StepsAndRatio(3, 0.6);
        o.comm = comms[static_cast<size_t>(r)];
        auto pruner = Pruner::Create(model.get(), &data, o);
        status[r] = pruner.status();
        if (!pruner.ok()) return;
        status[r] = (*pruner)->Run();
        got[r] = (*pruner)->record().SerializeAsString();
      });
    }
    for (auto& t : threads) t.join();
    for (int r = 0; r < 2; ++r) ASSERT_TRUE(status[r].ok()) << "rank " << r << ": " << status[r];
    EXPECT_EQ(got[0], got[1]);
    records.push_back(got[0]);
  }
  EXPECT_EQ(records[0], records[1]);
}

// The mode is not part of the record: a streamed run resumes a resident run's record (and the
// reverse) and ends with the uninterrupted run's bytes.
TEST(LayerStreamingTest, ResumesAcrossModes) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c, 7);
  const LlamaWeights w = testing::RandomWeights(c, 17);
  const PrunerOptions o = testing::StepsAndRatio(4, 0.6);
  const proto::Record whole = Prune(c, w, data, o, false).record;
  for (bool first_streamed : {false, true}) {
    auto backend = CreateCpuBackend().value();
    LlamaModel::Options first, second;
    first.stream_layers = first_streamed;
    second.stream_layers = !first_streamed;
    auto a = LlamaModel::Create(c, w, backend.get(), first).value();
    auto pa = Pruner::Create(a.get(), &data, o).value();
    ASSERT_TRUE(pa->Step().ok());
    ASSERT_TRUE(pa->Step().ok());
    const proto::Record partial = pa->record();
    auto b = LlamaModel::Create(c, w, backend.get(), second).value();
    auto pb = Pruner::Create(b.get(), &data, o, &partial);
    ASSERT_TRUE(pb.ok()) << pb.status();
    ASSERT_TRUE((*pb)->Run().ok());
    EXPECT_EQ((*pb)->record().SerializeAsString(), whole.SerializeAsString())
        << (first_streamed ? "streamed, then resident" : "resident, then streamed");
  }
}

// The tiny model's calibration set: 8 windows of 64 tokens from testdata/tiny/calib.txt.
CalibrationBatches TinyCalibration() {
  auto tok = Tokenizer::Load("testdata/tiny/model").value();
  TextWindowOptions w;
  w.window_tokens = 64;
  w.count = 8;
  auto seqs = TextWindows("testdata/tiny/calib.txt", *tok, w).value();
  return MakeCalibrationBatches(seqs, Objective::kLm, 4).value();
}

// docs/memory.md: streaming keeps sum_l (W_l + G_l) off the device and adds back the largest
// single layer's W_l + G_l (the one uploaded), so the peak drops by
// sum_l (W_l + G_l) - max_l (W_l + G_l), plus the scoring term 8 (sum_l R_l - max_l R_l): the
// resident step sums |W * Gbar| of every layer into one f64 buffer, the streamed step one
// layer's. W_l: layer l's weights in the working dtype (f32 on the CPU); G_l: its f32 Gbar
// buffers and R_l its scored rows and columns (q, o, gate, up, down for query-head units; none
// for a protected layer).
int64_t PredictedSaving(const LlamaConfig& c, const std::vector<bool>& protected_layer) {
  int64_t total = 0, widest = 0, rows = 0, widest_rows = 0;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerShape& s = c.layers[static_cast<size_t>(l)];
    const int64_t d = c.hidden_size, q = s.n_heads * c.head_dim, kv = s.n_kv_heads * c.head_dim;
    const int64_t f = s.intermediate;
    const bool scored = !protected_layer[static_cast<size_t>(l)];
    int64_t w = 2 * q * d + 2 * kv * d + 3 * f * d + 2 * d;
    if (c.HasQkvBias()) w += q + 2 * kv;
    if (c.HasOBias()) w += d;
    if (c.HasMlpBias()) w += 2 * f + d;
    const int64_t g = scored ? 2 * q * d + 3 * f * d : 0;
    const int64_t r = scored ? 2 * q + 3 * f : 0;
    total += 4 * (w + g);
    widest = std::max(widest, 4 * (w + g));
    rows += r;
    widest_rows = std::max(widest_rows, r);
  }
  return total - widest + 8 * (rows - widest_rows);
}

TEST(LayerStreamingTest, TinyModelSameRecordAndLowerDevicePeak) {
  const Checkpoint ckpt = LoadCheckpoint("testdata/tiny/model").value();
  const CalibrationBatches data = TinyCalibration();
  PrunerOptions o = testing::StepsAndRatio(3, 0.5);
  const Outcome streamed = Prune(ckpt.config, ckpt.weights, data, o, true);
  const Outcome resident = Prune(ckpt.config, ckpt.weights, data, o, false);
  ExpectSameRun(streamed, resident);

  // Layer 5 (the last) is protected, floor(0.1 * 6) = 0 first layers.
  std::vector<bool> protected_layer(6, false);
  protected_layer[5] = true;
  const int64_t predicted = PredictedSaving(ckpt.config, protected_layer);
  const int64_t measured = resident.memory.peak_bytes - streamed.memory.peak_bytes;
  std::printf(
      "device peak (backend allocations): resident %lld bytes, streamed %lld bytes; saving "
      "%lld bytes measured, %lld predicted (%.3f%% off)\n",
      static_cast<long long>(resident.memory.peak_bytes),
      static_cast<long long>(streamed.memory.peak_bytes), static_cast<long long>(measured),
      static_cast<long long>(predicted),
      100.0 * static_cast<double>(measured - predicted) / static_cast<double>(predicted));
  // Both peaks fall in the first step's scoring, with the same workspace, so the formula
  // accounts for every byte of the difference here; 0.1% leaves room for a backend that pads
  // allocations.
  EXPECT_LT(streamed.memory.peak_bytes, resident.memory.peak_bytes);
  EXPECT_NEAR(static_cast<double>(measured), static_cast<double>(predicted),
              0.001 * static_cast<double>(predicted));
}

// The memory estimate (docs/memory.md) counts one layer's weights and Gbar when streaming, so a
// budget that refuses the resident run lets the streamed one through.
TEST(LayerStreamingTest, BudgetRefusesResidentButAcceptsStreamed) {
  const LlamaConfig c = testing::SmallGqa();
  const CalibrationBatches data = testing::RandomCalibration(c, 7);
  const LlamaWeights w = testing::RandomWeights(c, 17);
  auto backend = CreateCpuBackend().value();
  GradRequest request = GradRequest::Layers(c, 0);
  for (int64_t l = 0; l + 1 < c.num_layers; ++l) {
    request.layers[static_cast<size_t>(l)] = kParamQ | kParamO | kParamGate | kParamUp | kParamDown;
  }
  const int64_t chunk = int64_t{1} << 20;
  const int64_t resident = CalibrationPassBytes(c, request, 2, 12, chunk, DType::kF32);
  const int64_t streamed =
      CalibrationPassBytes(c, request, 2, 12, chunk, DType::kF32, true, DType::kF32);
  ASSERT_LT(streamed, resident);
  EXPECT_LT(StreamedWeightBytes(c, DType::kF32, DType::kF32),
            WeightBytes(c, DType::kF32, DType::kF32));
  CallContext call;
  call.memory_budget = (streamed + resident) / 2;
  ScopedCallContext scope(&call);
  for (bool stream : {false, true}) {
    LlamaModel::Options mo;
    mo.stream_layers = stream;
    auto model = LlamaModel::Create(c, w, backend.get(), mo).value();
    auto pruner = Pruner::Create(model.get(), &data, testing::StepsAndRatio(2, 0.5));
    if (stream) {
      EXPECT_TRUE(pruner.ok()) << pruner.status();
    } else {
      EXPECT_EQ(pruner.status().code(), absl::StatusCode::kResourceExhausted) << pruner.status();
    }
  }
}

// The PyTorch GISP fixtures (torch_gisp_parity_test's checks) with a streamed model, and the
// streamed record against the resident one.
class StreamedTorchParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamedTorchParityTest, MatchesPyTorchAndTheResidentRun) {
  auto fixture = testing::LoadGispFixture(GetParam());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const Outcome streamed = Prune(fixture->checkpoint.config, fixture->checkpoint.weights,
                                 fixture->data, fixture->options, true);
  const Outcome resident = Prune(fixture->checkpoint.config, fixture->checkpoint.weights,
                                 fixture->data, fixture->options, false);
  ASSERT_EQ(static_cast<int32_t>(streamed.scores.size()), streamed.record.steps_size());
  for (int32_t k = 0; k < streamed.record.steps_size(); ++k) {
    const testing::StepParity parity = testing::CompareStepWithTorch(
        *fixture, k, streamed.record, streamed.raw[k], streamed.scores[k]);
    for (const std::string& problem : parity.problems) ADD_FAILURE() << problem;
    std::printf("%s streamed step %d: %s\n", GetParam().c_str(), k, parity.Summary().c_str());
  }
  ExpectSameRun(streamed, resident);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StreamedTorchParityTest,
                         ::testing::ValuesIn(testing::GispFixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace gisp
