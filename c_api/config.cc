// Prune configuration: typed setters over gisp::PruneConfig with validation, and the C boundary
// of the option enums (C values <-> gisp's C++ enums, names from the library).
#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "c_api/internal.h"
#include "gisp/base/status.h"
#include "gisp/proto/json.h"
#include "gisp/prune/sparsity.h"

using gisp::capi::Guard;

namespace {

// Each C enum value with gisp's C++ value; the C numbers are the ABI, the names the library's.
template <typename E>
struct CValue {
  int c;
  E value;
};
constexpr CValue<gisp::Objective> kObjectives[] = {
    {GISP_OBJECTIVE_LM, gisp::Objective::kLm},
    {GISP_OBJECTIVE_ANSWER_ONLY, gisp::Objective::kAnswerOnly},
    {GISP_OBJECTIVE_MARGIN, gisp::Objective::kMargin}};
constexpr CValue<gisp::Normalization> kNormalizations[] = {
    {GISP_NORMALIZATION_REFERENCE, gisp::Normalization::kReference},
    {GISP_NORMALIZATION_PAPER, gisp::Normalization::kPaper},
    {GISP_NORMALIZATION_NONE, gisp::Normalization::kNone}};
constexpr CValue<gisp::GqaUnit> kGqaUnits[] = {
    {GISP_GQA_UNIT_QUERY_HEAD, gisp::GqaUnit::kQueryHead},
    {GISP_GQA_UNIT_KV_GROUP, gisp::GqaUnit::kKvGroup}};

constexpr CValue<gisp::Method> kMethods[] = {{GISP_METHOD_GISP, gisp::Method::kGisp},
                                             {GISP_METHOD_ONESHOT, gisp::Method::kOneShot},
                                             {GISP_METHOD_WANDA_SP, gisp::Method::kWandaSp},
                                             {GISP_METHOD_FLAP, gisp::Method::kFlap},
                                             {GISP_METHOD_LLM_PRUNER, gisp::Method::kLlmPruner},
                                             {GISP_METHOD_MAGNITUDE, gisp::Method::kMagnitude},
                                             {GISP_METHOD_RANDOM, gisp::Method::kRandom}};

const char* NameOf(gisp::Method v) { return gisp::MethodName(v); }
const char* NameOf(gisp::Objective v) { return gisp::ObjectiveName(v); }
const char* NameOf(gisp::Normalization v) { return gisp::NormalizationName(v); }
const char* NameOf(gisp::GqaUnit v) { return gisp::GqaUnitName(v); }

// The C++ value of C value `c`; InvalidArgument "<what> must be lm (0), ... got 7" otherwise.
template <typename E, size_t N>
absl::StatusOr<E> FromC(const CValue<E> (&table)[N], const char* what, int c) {
  std::string allowed;
  for (size_t i = 0; i < N; ++i) {
    if (table[i].c == c) return table[i].value;
    absl::StrAppend(&allowed, i == 0 ? "" : (i + 1 == N ? " or " : ", "), NameOf(table[i].value),
                    " (", table[i].c, ")");
  }
  return absl::InvalidArgumentError(absl::StrCat(what, " must be ", allowed, ", got ", c));
}

// The C value named `name` by the library's parser.
template <typename E, size_t N, typename Parse, typename C>
gisp_status* FromName(const char* function, const CValue<E> (&table)[N], Parse parse,
                      const char* name, C* out) {
  if (name == nullptr) return gisp::capi::NullArgument(function, "name");
  if (out == nullptr) return gisp::capi::NullArgument(function, "out");
  return Guard(function, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(const E value, parse(name));
    for (const CValue<E>& entry : table) {
      if (entry.value == value) *out = static_cast<C>(entry.c);
    }
    return absl::OkStatus();
  });
}

template <typename E, size_t N>
const char* CName(const CValue<E> (&table)[N], int c) {
  for (const CValue<E>& entry : table) {
    if (entry.c == c) return NameOf(entry.value);
  }
  return nullptr;
}

template <typename Fn>
gisp_status* Set(const char* function, gisp_prune_config* c, Fn&& apply) {
  if (c == nullptr) return gisp::capi::NullArgument(function, "config");
  return Guard(function, [&]() -> absl::Status {
    gisp::PruneConfig next = c->config;
    GISP_RETURN_IF_ERROR(apply(&next));
    GISP_RETURN_IF_ERROR(gisp::ValidatePruneConfig(next));
    c->config = next;
    return absl::OkStatus();
  });
}

}  // namespace

extern "C" {

const char* gisp_objective_name(gisp_objective value) {
  return CName(kObjectives, gisp::capi::EnumBits(value));
}
const char* gisp_normalization_name(gisp_normalization value) {
  return CName(kNormalizations, gisp::capi::EnumBits(value));
}
const char* gisp_gqa_unit_name(gisp_gqa_unit value) {
  return CName(kGqaUnits, gisp::capi::EnumBits(value));
}

const char* gisp_method_name(gisp_method value) {
  return CName(kMethods, gisp::capi::EnumBits(value));
}
gisp_status* gisp_method_from_name(const char* name, gisp_method* out) {
  return FromName(__func__, kMethods, gisp::ParseMethod, name, out);
}

gisp_status* gisp_objective_from_name(const char* name, gisp_objective* out) {
  return FromName(__func__, kObjectives, gisp::ParseObjective, name, out);
}
gisp_status* gisp_normalization_from_name(const char* name, gisp_normalization* out) {
  return FromName(__func__, kNormalizations, gisp::ParseNormalization, name, out);
}
gisp_status* gisp_gqa_unit_from_name(const char* name, gisp_gqa_unit* out) {
  return FromName(__func__, kGqaUnits, gisp::ParseGqaUnit, name, out);
}

gisp_status* gisp_prune_config_create(gisp_prune_config** out) {
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    *out = new gisp_prune_config();
    return absl::OkStatus();
  });
}

void gisp_prune_config_free(gisp_prune_config* config) { delete config; }

gisp_status* gisp_prune_config_set_objective(gisp_prune_config* c, gisp_objective value) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) -> absl::Status {
    GISP_ASSIGN_OR_RETURN(p->objective,
                          FromC(kObjectives, "objective", gisp::capi::EnumBits(value)));
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_ratio(gisp_prune_config* c, double v) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) {
    p->ratio = v;
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_steps(gisp_prune_config* c, int32_t v) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) {
    p->steps = v;
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_normalization(gisp_prune_config* c, gisp_normalization value) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) -> absl::Status {
    GISP_ASSIGN_OR_RETURN(p->normalization,
                          FromC(kNormalizations, "normalization", gisp::capi::EnumBits(value)));
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_gqa_unit(gisp_prune_config* c, gisp_gqa_unit value) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) -> absl::Status {
    GISP_ASSIGN_OR_RETURN(p->gqa_unit, FromC(kGqaUnits, "GQA unit", gisp::capi::EnumBits(value)));
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_round_channels_to(gisp_prune_config* c, int32_t v) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) {
    p->round_channels_to = v;
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_protect_first_fraction(gisp_prune_config* c, double v) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) {
    p->protect_first_fraction = v;
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_protect_last(gisp_prune_config* c, bool v) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) {
    p->protect_last = v;
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_batch_size(gisp_prune_config* c, int32_t v) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) {
    p->batch_size = v;
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_method(gisp_prune_config* c, gisp_method value) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) -> absl::Status {
    GISP_ASSIGN_OR_RETURN(p->method, FromC(kMethods, "method", gisp::capi::EnumBits(value)));
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_target_sparsities(gisp_prune_config* c, const double* values,
                                                     size_t n) {
  if (n > 0 && values == nullptr) return gisp::capi::NullArgument(__func__, "values");
  return Set(__func__, c, [&](gisp::PruneConfig* p) {
    p->target_sparsities.assign(values, values + n);
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_seed(gisp_prune_config* c, uint64_t v) {
  return Set(__func__, c, [&](gisp::PruneConfig* p) {
    p->seed = v;
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_compact(gisp_prune_config* c, bool v) {
  GISP_C_REQUIRE(c);
  c->compact = v;
  return nullptr;
}

gisp_status* gisp_prune_config_to_json(const gisp_prune_config* c, char** json) {
  GISP_C_REQUIRE(c);
  GISP_C_REQUIRE(json);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(const std::string out,
                          gisp::ProtoToJson(gisp::PruneConfigToProto(c->config)));
    *json = gisp::capi::CopyString(out);
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_sparsity_range(const gisp_prune_config* c, const gisp_model* model,
                                              double* dense, double* reachable) {
  GISP_C_REQUIRE(c);
  GISP_C_REQUIRE(model);
  return gisp::capi::GuardIn(model->context, __func__, [&]() -> absl::Status {
    if (model->pruned_in_place || !model->original) {
      return absl::FailedPreconditionError(
          "gisp_prune_config_sparsity_range needs a dense model loaded with gisp_model_load that "
          "no pruner has pruned");
    }
    GISP_ASSIGN_OR_RETURN(const gisp::SparsityRange range,
                          gisp::RunSparsityRange(*model->model, c->config));
    if (dense != nullptr) *dense = range.dense;
    if (reachable != nullptr) *reachable = range.reachable;
    return absl::OkStatus();
  });
}

}  // extern "C"
