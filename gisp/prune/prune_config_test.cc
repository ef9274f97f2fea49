// The vocabulary of a run's options: one name per enum value (the same spelling for flags, the
// C API, fixtures and messages), the proto boundary of the configuration, and the sparsity range
// a configuration gives before a run (the report's dense row and the CLI's target check).
#include "gisp/prune/prune_config.h"

#include <random>

#include "gisp/backend/backend.h"
#include "gisp/prune/pruner.h"
#include "gisp/prune/record.h"
#include "gisp/prune/sparsity.h"
#include "gisp/testing/random_model.h"
#include "gtest/gtest.h"

namespace gisp {
namespace {

template <typename E, typename Name, typename Parse>
void ExpectNames(std::initializer_list<std::pair<E, const char*>> values, Name name, Parse parse,
                 const char* list) {
  for (const auto& [value, spelled] : values) {
    EXPECT_STREQ(name(value), spelled);
    const absl::StatusOr<E> back = parse(spelled);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, value) << spelled;
  }
  const absl::Status bad = parse("Bogus").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find(list), std::string::npos) << bad;
  EXPECT_NE(bad.message().find("\"Bogus\""), std::string::npos) << bad;
}

TEST(PruneConfigTest, EachOptionValueHasOneName) {
  ExpectNames<Objective>({{Objective::kLm, "lm"},
                          {Objective::kAnswerOnly, "answer-only"},
                          {Objective::kMargin, "margin"}},
                         ObjectiveName, ParseObjective,
                         "objective must be lm, answer-only or margin, got");
  ExpectNames<Normalization>({{Normalization::kReference, "reference"},
                              {Normalization::kPaper, "paper"},
                              {Normalization::kNone, "none"}},
                             NormalizationName, ParseNormalization,
                             "normalization must be reference, paper or none, got");
  ExpectNames<GqaUnit>({{GqaUnit::kQueryHead, "query-head"}, {GqaUnit::kKvGroup, "kv-group"}},
                       GqaUnitName, ParseGqaUnit, "GQA unit must be query-head or kv-group, got");
  EXPECT_STREQ(ObjectiveName(static_cast<Objective>(9)), "");
}

TEST(PruneConfigTest, ObjectiveMustFitTheCalibrationSource) {
  EXPECT_TRUE(CheckObjectiveFits(CalibrationSource::kQaJsonl, Objective::kAnswerOnly).ok());
  EXPECT_TRUE(CheckObjectiveFits(CalibrationSource::kTokens, Objective::kMargin).ok());
  const absl::Status s = CheckObjectiveFits(CalibrationSource::kTextWindows, Objective::kMargin);
  EXPECT_EQ(s.message(),
            "calibration from text-windows needs objective lm, the configuration has margin");
}

TEST(PruneConfigTest, ProtoRoundTripAndUnknownValues) {
  PruneConfig c;
  c.objective = Objective::kMargin;
  c.normalization = Normalization::kPaper;
  c.gqa_unit = GqaUnit::kKvGroup;
  c.ratio = 0.4;
  c.steps = 7;
  c.round_channels_to = 8;
  c.protect_first_fraction = 0.25;
  c.protect_last = false;
  c.batch_size = 3;
  const proto::PruneConfig p = PruneConfigToProto(c);
  EXPECT_EQ(p.objective(), proto::OBJECTIVE_MARGIN);
  EXPECT_EQ(p.normalization(), proto::NORMALIZATION_PAPER);
  EXPECT_EQ(p.gqa_unit(), proto::GQA_UNIT_KV_GROUP);
  const absl::StatusOr<PruneConfig> back = PruneConfigFromProto(p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(PruneConfigToProto(*back).SerializeAsString(), p.SerializeAsString());

  proto::PruneConfig future = p;
  future.set_normalization(static_cast<proto::Normalization>(5));
  EXPECT_EQ(PruneConfigFromProto(future).status().message(), "normalization: unknown value 5");
}

struct Model {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<LlamaModel> model;
};

Model Dense(const LlamaConfig& c) {
  Model m;
  m.backend = CreateCpuBackend().value();
  m.model = LlamaModel::Create(c, testing::RandomWeights(c, 5), m.backend.get()).value();
  return m;
}

CalibrationBatches Data(const LlamaConfig& c) {
  std::mt19937 rng(11);
  std::vector<LabelledSequence> seqs;
  for (int i = 0; i < 6; ++i) {
    std::vector<int32_t> tokens(12);
    for (auto& x : tokens) x = static_cast<int32_t>(rng() % c.vocab_size);
    seqs.push_back(NextTokenSequence(std::move(tokens)));
  }
  return MakeCalibrationBatches(seqs, Objective::kLm, 2).value();
}

class SparsityRangeTest : public ::testing::TestWithParam<GqaUnit> {};

// The dense sparsity is the share of decoder parameters that no unit owns (RMSNorm weights:
// random weights have no zeros), and no run at the configured ratio gets above `reachable`.
TEST_P(SparsityRangeTest, DenseIsTheNormShareAndEveryStepStaysBelowReachable) {
  const LlamaConfig c = testing::SmallConfig(61, 32, 5, 4, 2, 8, 24);
  const double norm_share = 2.0 * 5 * 32 / static_cast<double>(c.DecoderParameters());
  PrunerOptions o;
  o.config.steps = 4;
  o.config.ratio = 0.6;
  o.config.gqa_unit = GetParam();
  Model m = Dense(c);
  const absl::StatusOr<SparsityRange> range = RunSparsityRange(*m.model, o.config);
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_NEAR(range->dense, norm_share, 1e-12);
  EXPECT_GT(range->reachable, 0.5);
  EXPECT_LT(range->reachable, 1.0);

  const CalibrationBatches data = Data(c);
  auto pruner = Pruner::Create(m.model.get(), &data, o);
  ASSERT_TRUE(pruner.ok()) << pruner.status();
  EXPECT_DOUBLE_EQ((*pruner)->SparsityOf(std::vector<bool>((*pruner)->num_units(), false)),
                   range->dense);
  ASSERT_TRUE((*pruner)->Run().ok());
  const proto::Record& record = (*pruner)->record();
  EXPECT_GT(record.steps(0).sparsity(), range->dense);
  EXPECT_LE(record.steps(record.steps_size() - 1).sparsity(), range->reachable);

  // A lower ratio reaches less; the dense end does not move.
  o.config.ratio = 0.3;
  Model fresh = Dense(c);
  const absl::StatusOr<SparsityRange> lower = RunSparsityRange(*fresh.model, o.config);
  ASSERT_TRUE(lower.ok()) << lower.status();
  EXPECT_LT(lower->reachable, range->reachable);
  EXPECT_DOUBLE_EQ(lower->dense, range->dense);
}

INSTANTIATE_TEST_SUITE_P(Units, SparsityRangeTest,
                         ::testing::Values(GqaUnit::kQueryHead, GqaUnit::kKvGroup));

}  // namespace
}  // namespace gisp
