#include "gisp/prune/prune_config.h"

#include <cstddef>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// Each C++ enum value and its proto value. The proto's numbers are fixed by the record format;
// the tables keep the two enums from having to share numbering.
constexpr std::pair<Objective, proto::Objective> kObjectives[] = {
    {Objective::kLm, proto::OBJECTIVE_LM},
    {Objective::kAnswerOnly, proto::OBJECTIVE_ANSWER_ONLY},
    {Objective::kMargin, proto::OBJECTIVE_MARGIN}};
constexpr std::pair<Normalization, proto::Normalization> kNormalizations[] = {
    {Normalization::kReference, proto::NORMALIZATION_REFERENCE},
    {Normalization::kPaper, proto::NORMALIZATION_PAPER},
    {Normalization::kNone, proto::NORMALIZATION_NONE}};
constexpr std::pair<Method, proto::Method> kMethods[] = {
    {Method::kGisp, proto::METHOD_GISP},
    {Method::kOneShot, proto::METHOD_ONESHOT},
    {Method::kWandaSp, proto::METHOD_WANDA_SP},
    {Method::kFlap, proto::METHOD_FLAP},
    {Method::kLlmPruner, proto::METHOD_LLM_PRUNER},
    {Method::kMagnitude, proto::METHOD_MAGNITUDE},
    {Method::kRandom, proto::METHOD_RANDOM}};
constexpr std::pair<GqaUnit, proto::GqaUnit> kGqaUnits[] = {
    {GqaUnit::kQueryHead, proto::GQA_UNIT_QUERY_HEAD},
    {GqaUnit::kKvGroup, proto::GQA_UNIT_KV_GROUP}};

template <typename A, typename B, size_t N>
std::optional<B> ToProto(const std::pair<A, B> (&table)[N], A value) {
  for (const auto& [a, b] : table) {
    if (a == value) return b;
  }
  return std::nullopt;
}

template <typename A, typename B, size_t N>
absl::StatusOr<A> FromProto(const std::pair<A, B> (&table)[N], const char* field, int value) {
  for (const auto& [a, b] : table) {
    if (b == value) return a;
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value ", value));
}

}  // namespace

absl::Status ValidatePruneConfig(const PruneConfig& c) {
  GISP_CHECK_ARG(c.ratio >= 0 && c.ratio < 1, "ratio must be in [0, 1), got ", c.ratio);
  GISP_CHECK_ARG(c.steps >= 1 && c.steps <= 100000, "steps must be in [1, 100000], got ", c.steps);
  GISP_CHECK_ARG(c.batch_size >= 1, "batch size must be at least 1, got ", c.batch_size);
  GISP_CHECK_ARG(c.round_channels_to >= 0 && c.round_channels_to <= 4096,
                 "channel rounding multiple must be in [0, 4096], got ", c.round_channels_to);
  GISP_CHECK_ARG(c.protect_first_fraction >= 0 && c.protect_first_fraction <= 1,
                 "protected first-layer fraction must be in [0, 1], got ",
                 c.protect_first_fraction);
  GISP_CHECK_ARG(*ObjectiveName(c.objective) != '\0', "unknown objective ",
                 static_cast<int>(c.objective));
  GISP_CHECK_ARG(*NormalizationName(c.normalization) != '\0', "unknown normalization ",
                 static_cast<int>(c.normalization));
  GISP_CHECK_ARG(*GqaUnitName(c.gqa_unit) != '\0', "unknown GQA unit ",
                 static_cast<int>(c.gqa_unit));
  GISP_CHECK_ARG(*MethodName(c.method) != '\0', "unknown method ", static_cast<int>(c.method));
  for (double t : c.target_sparsities) {
    GISP_CHECK_ARG(t > 0 && t < 1, "target sparsities must be in (0, 1), got ", t);
  }
  GISP_CHECK_ARG(c.target_sparsities.size() <= 100000, "at most 100000 target sparsities, got ",
                 c.target_sparsities.size());
  return absl::OkStatus();
}

proto::PruneConfig PruneConfigToProto(const PruneConfig& c) {
  proto::PruneConfig p;
  // A value outside the enums never gets here (ValidatePruneConfig); the proto default stands in.
  p.set_objective(ToProto(kObjectives, c.objective).value_or(proto::OBJECTIVE_LM));
  p.set_ratio(c.ratio);
  p.set_steps(c.steps);
  p.set_normalization(
      ToProto(kNormalizations, c.normalization).value_or(proto::NORMALIZATION_REFERENCE));
  p.set_gqa_unit(ToProto(kGqaUnits, c.gqa_unit).value_or(proto::GQA_UNIT_QUERY_HEAD));
  p.set_round_channels_to(c.round_channels_to);
  p.set_protect_first_fraction(c.protect_first_fraction);
  p.set_protect_last(c.protect_last);
  p.set_batch_size(c.batch_size);
  // gisp's defaults leave the new fields unset, so a GISP record is the bytes it always was.
  p.set_method(ToProto(kMethods, c.method).value_or(proto::METHOD_GISP));
  for (double t : c.target_sparsities) p.add_target_sparsities(t);
  p.set_seed(c.seed);
  return p;
}

absl::StatusOr<PruneConfig> PruneConfigFromProto(const proto::PruneConfig& p) {
  PruneConfig c;
  GISP_ASSIGN_OR_RETURN(c.objective, FromProto(kObjectives, "objective", p.objective()));
  GISP_ASSIGN_OR_RETURN(c.normalization,
                        FromProto(kNormalizations, "normalization", p.normalization()));
  GISP_ASSIGN_OR_RETURN(c.gqa_unit, FromProto(kGqaUnits, "gqa_unit", p.gqa_unit()));
  c.ratio = p.ratio();
  c.steps = p.steps();
  c.round_channels_to = p.round_channels_to();
  c.protect_first_fraction = p.protect_first_fraction();
  c.protect_last = p.protect_last();
  c.batch_size = p.batch_size();
  // Records written before methods existed have no method field: 0 reads as gisp.
  GISP_ASSIGN_OR_RETURN(c.method, FromProto(kMethods, "method", p.method()));
  c.target_sparsities.assign(p.target_sparsities().begin(), p.target_sparsities().end());
  c.seed = p.seed();
  return c;
}

}  // namespace gisp
