// Prune configuration: typed setters over proto::PruneConfig with validation.
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "c_api/internal.h"
#include "gisp/base/status.h"

using gisp::capi::Guard;

namespace {

template <typename Fn>
gisp_status* Set(const char* function, gisp_prune_config* c, Fn&& apply) {
  if (c == nullptr) return gisp::capi::NullArgument(function, "config");
  return Guard(function, [&]() -> absl::Status {
    gisp::proto::PruneConfig next = c->config;
    GISP_RETURN_IF_ERROR(apply(&next));
    GISP_RETURN_IF_ERROR(gisp::ValidatePruneConfig(next));
    c->config = next;
    return absl::OkStatus();
  });
}

}  // namespace

extern "C" {

gisp_status* gisp_prune_config_create(gisp_prune_config** out) {
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    *out = new gisp_prune_config();
    return absl::OkStatus();
  });
}

void gisp_prune_config_free(gisp_prune_config* config) { delete config; }

gisp_status* gisp_prune_config_set_objective(gisp_prune_config* c, gisp_objective value) {
  const int v = gisp::capi::EnumBits(value);
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) -> absl::Status {
    GISP_CHECK_ARG(v >= GISP_OBJECTIVE_LM && v <= GISP_OBJECTIVE_MARGIN,
                   "objective must be lm (0), answer-only (1) or margin (2), got ", v);
    p->set_objective(static_cast<gisp::proto::Objective>(v));
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_ratio(gisp_prune_config* c, double v) {
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) {
    p->set_ratio(v);
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_steps(gisp_prune_config* c, int32_t v) {
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) {
    p->set_steps(v);
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_normalization(gisp_prune_config* c, gisp_normalization value) {
  const int v = gisp::capi::EnumBits(value);
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) -> absl::Status {
    GISP_CHECK_ARG(v >= GISP_NORMALIZATION_REFERENCE && v <= GISP_NORMALIZATION_NONE,
                   "normalization must be reference (0), paper (1) or none (2), got ", v);
    p->set_normalization(static_cast<gisp::proto::Normalization>(v));
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_gqa_unit(gisp_prune_config* c, gisp_gqa_unit value) {
  const int v = gisp::capi::EnumBits(value);
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) -> absl::Status {
    GISP_CHECK_ARG(v == GISP_GQA_UNIT_QUERY_HEAD || v == GISP_GQA_UNIT_KV_GROUP,
                   "GQA unit must be query-head (0) or kv-group (1), got ", v);
    p->set_gqa_unit(static_cast<gisp::proto::GqaUnit>(v));
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_round_channels_to(gisp_prune_config* c, int32_t v) {
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) {
    p->set_round_channels_to(v);
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_protect_first_fraction(gisp_prune_config* c, double v) {
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) {
    p->set_protect_first_fraction(v);
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_protect_last(gisp_prune_config* c, bool v) {
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) {
    p->set_protect_last(v);
    return absl::OkStatus();
  });
}

gisp_status* gisp_prune_config_set_batch_size(gisp_prune_config* c, int32_t v) {
  return Set(__func__, c, [&](gisp::proto::PruneConfig* p) {
    p->set_batch_size(v);
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
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.always_print_primitive_fields = true;
    options.preserve_proto_field_names = true;
    auto status = google::protobuf::util::MessageToJsonString(c->config, &out, options);
    if (!status.ok()) return absl::InternalError(status.ToString());
    *json = gisp::capi::CopyString(out);
    return absl::OkStatus();
  });
}

}  // extern "C"
