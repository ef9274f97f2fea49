#include "gisp/prune/record.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"
#include "gisp/proto/json.h"
#include "gisp/prune/prune_config.h"

namespace gisp {

std::string RecordToBinary(const proto::Record& record) {
  std::string out;
  record.SerializeToString(&out);
  return out;
}

absl::StatusOr<std::string> RecordToJson(const proto::Record& record) {
  return ProtoToJson(record);
}

absl::Status SaveRecord(const proto::Record& record, const std::string& path) {
  if (absl::EndsWith(path, ".json")) {
    GISP_ASSIGN_OR_RETURN(std::string json, RecordToJson(record));
    return WriteFileAtomic(path, json);
  }
  return WriteFileAtomic(path, RecordToBinary(record));
}

absl::StatusOr<proto::Record> RecordFromBytes(const std::string& bytes, const std::string& source) {
  proto::Record record;
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && bytes[first] == '{') {
    GISP_RETURN_IF_ERROR(ProtoFromJson(bytes, source, &record));
  } else if (!record.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a gisp record (corrupt or truncated protobuf)"));
  }
  GISP_RETURN_IF_ERROR(ValidateRecord(record, source));
  return record;
}

absl::StatusOr<proto::Record> LoadRecord(const std::string& path) {
  GISP_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return RecordFromBytes(bytes, path);
}

absl::Status ValidateRecord(const proto::Record& r, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid record: ", what));
  };
  if (r.format_version() == 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        source, ": record format_version 1 is no longer supported: its fingerprints (",
        r.model().fingerprint(), ", ", r.calibration().fingerprint(),
        ") were made with a hash this gisp no longer computes (format 2 uses XXH3-128), so the "
        "record can neither be checked against a model nor converted. Prune again with this "
        "gisp: with the prune CLI, --fresh starts over in the same --out directory"));
  }
  if (r.format_version() < kOldestReadableRecordFormatVersion ||
      r.format_version() > kRecordFormatVersion) {
    return bad(absl::StrCat("format_version ", r.format_version(), " (this gisp reads ",
                            kOldestReadableRecordFormatVersion, "..", kRecordFormatVersion, ")"));
  }
  // Fingerprints of format 2: 32 lower-case hex digits (XXH3-128).
  auto is_fingerprint = [](const std::string& f) {
    return f.size() == 32 && f.find_first_not_of("0123456789abcdef") == std::string::npos;
  };
  if (!is_fingerprint(r.model().fingerprint()) || !is_fingerprint(r.calibration().fingerprint())) {
    return bad(absl::StrCat("fingerprints '", r.model().fingerprint(), "' and '",
                            r.calibration().fingerprint(), "' are not 32 lower-case hex digits"));
  }
  const absl::StatusOr<PruneConfig> config = PruneConfigFromProto(r.config());
  const absl::Status config_status = config.ok() ? ValidatePruneConfig(*config) : config.status();
  if (!config_status.ok()) return bad(absl::StrCat("config: ", config_status.message()));
  // The layout must be the one the recorded model and configuration imply: a record whose
  // gqa_unit or widths were edited would otherwise index the model's heads out of range.
  const auto& m = r.model();
  const auto& layout = r.layout();
  constexpr int64_t kMaxWidth = int64_t{1} << 24;
  if (m.num_layers() <= 0 || m.num_layers() > 100000 || m.num_heads() <= 0 ||
      m.num_heads() > kMaxWidth || m.num_kv_heads() <= 0 || m.num_heads() % m.num_kv_heads() != 0 ||
      m.intermediate_size() < 0 || m.intermediate_size() > kMaxWidth) {
    return bad(absl::StrCat("model shape layers ", m.num_layers(), ", heads ", m.num_heads(),
                            ", kv heads ", m.num_kv_heads(), ", intermediate ",
                            m.intermediate_size(), " is not a valid decoder"));
  }
  const bool kv_group = config->gqa_unit == GqaUnit::kKvGroup && m.num_heads() != m.num_kv_heads();
  const int64_t head_units = kv_group ? m.num_kv_heads() : m.num_heads();
  const int64_t group = m.num_heads() / m.num_kv_heads();
  if (layout.num_layers() != m.num_layers() || layout.head_units_per_layer() != head_units ||
      layout.channel_units_per_layer() != m.intermediate_size() ||
      layout.protected_layer_size() != layout.num_layers()) {
    return bad(absl::StrCat(
        "layout (", layout.num_layers(), " layers, ", layout.head_units_per_layer(), " head and ",
        layout.channel_units_per_layer(),
        " channel units per layer) does not match the model and gqa_unit (", m.num_layers(),
        " layers, ", head_units, " head and ", m.intermediate_size(), " channel units)"));
  }
  const int64_t per_layer = head_units + m.intermediate_size();
  const int64_t units = m.num_layers() * per_layer;
  if (r.pruned_at_step_size() != units) {
    return bad(absl::StrCat("pruned_at_step has ", r.pruned_at_step_size(), " entries for ", units,
                            " units"));
  }
  const int32_t steps = r.steps_size();
  if (steps > r.config().steps()) {
    return bad(absl::StrCat(steps, " steps recorded for config.steps = ", r.config().steps()));
  }
  if (r.complete() && steps != r.config().steps()) {
    return bad(absl::StrCat("marked complete after ", steps, " of ", r.config().steps(), " steps"));
  }
  for (int64_t u = 0; u < units; ++u) {
    const int32_t s = r.pruned_at_step(static_cast<int>(u));
    if (s < -1 || s >= steps) {
      return bad(absl::StrCat("pruned_at_step entry ", s, " outside [-1, ", steps, ")"));
    }
    if (s >= 0 && layout.protected_layer(static_cast<int>(u / per_layer))) {
      return bad(absl::StrCat("unit ", u, " of protected layer ", u / per_layer,
                              " is recorded as pruned"));
    }
  }
  // Every step's summary must follow from pruned_at_step.
  double last = -1;
  for (int32_t i = 0; i < steps; ++i) {
    const auto& st = r.steps(i);
    if (st.index() != i) return bad(absl::StrCat("step ", i, " has index ", st.index()));
    if (!(st.sparsity() >= 0 && st.sparsity() <= 1) || st.sparsity() < last) {
      return bad(
          absl::StrCat("step ", i, " sparsity ", st.sparsity(), " is not in [0, 1] or decreases"));
    }
    last = st.sparsity();
    if (st.kept_heads_size() != m.num_layers() || st.kept_channels_size() != m.num_layers()) {
      return bad(absl::StrCat("step ", i, " lists kept widths for ", st.kept_heads_size(),
                              " layers, the model has ", m.num_layers()));
    }
    int64_t pruned_units = 0;
    for (int64_t l = 0; l < m.num_layers(); ++l) {
      int64_t heads = 0, channels = 0;
      for (int64_t u = l * per_layer; u < (l + 1) * per_layer; ++u) {
        const int32_t s = r.pruned_at_step(static_cast<int>(u));
        const bool pruned = s >= 0 && s <= i;
        pruned_units += pruned;
        if (pruned) continue;
        if (u - l * per_layer < head_units) {
          heads += kv_group ? group : 1;
        } else {
          ++channels;
        }
      }
      if (st.kept_heads(static_cast<int>(l)) != heads ||
          st.kept_channels(static_cast<int>(l)) != channels) {
        return bad(absl::StrCat("step ", i, " layer ", l, " records ", st.kept_heads(l),
                                " heads and ", st.kept_channels(l), " channels kept, its pruned ",
                                "units leave ", heads, " and ", channels));
      }
    }
    if (st.pruned_units() != pruned_units) {
      return bad(absl::StrCat("step ", i, " records ", st.pruned_units(), " pruned units, ",
                              "pruned_at_step gives ", pruned_units));
    }
  }
  // FLAP's compensation data: a flap record with steps must carry it (an export of any step
  // needs it), and it must fit the model, since it is added into biases of the model's width.
  const int means = r.flap_input_means_size();
  if (config->method != Method::kFlap) {
    if (means != 0) {
      return bad(absl::StrCat("flap_input_means is set (", means, " layers) for method ",
                              MethodName(config->method), "; only method flap records it"));
    }
  } else if (means != 0 || steps > 0) {
    if (means != m.num_layers()) {
      return bad(absl::StrCat("flap_input_means has ", means, " layers, the model has ",
                              m.num_layers(), " (a flap record with steps needs one per layer)"));
    }
    const int64_t attn = m.num_heads() * m.head_dim();
    for (int l = 0; l < means; ++l) {
      const proto::LayerInputMeans& x = r.flap_input_means(l);
      if (x.o_proj_size() != attn || x.down_proj_size() != m.intermediate_size()) {
        return bad(absl::StrCat(
            "flap_input_means layer ", l, " has ", x.o_proj_size(), " o_proj and ",
            x.down_proj_size(), " down_proj columns, the model has ", attn, " (heads ",
            m.num_heads(), " x head_dim ", m.head_dim(), ") and ", m.intermediate_size()));
      }
      for (const auto* v : {&x.o_proj(), &x.down_proj()}) {
        for (int j = 0; j < v->size(); ++j) {
          if (!std::isfinite(v->Get(j))) {
            return bad(absl::StrCat("flap_input_means layer ", l, " ",
                                    v == &x.o_proj() ? "o_proj" : "down_proj", " column ", j,
                                    " is ", v->Get(j), " (not finite)"));
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

UnitSpace RecordUnitSpace(const proto::Record& record, const LlamaConfig& dense) {
  UnitSpace s;
  const auto& layout = record.layout();
  s.num_layers = layout.num_layers();
  s.heads = layout.head_units_per_layer();
  s.channels = layout.channel_units_per_layer();
  s.group = dense.num_kv_heads > 0 ? dense.num_heads / dense.num_kv_heads : 1;
  if (dense.num_heads == dense.num_kv_heads) {
    s.kind = HeadUnitKind::kMha;
  } else {
    // A validated record's gqa_unit is known; a kv-group layout has KV head units per layer.
    s.kind = s.heads == dense.num_kv_heads ? HeadUnitKind::kKvGroup : HeadUnitKind::kQueryHead;
  }
  s.protected_layer.assign(layout.protected_layer().begin(), layout.protected_layer().end());
  return s;
}

std::vector<bool> PrunedAtOrBefore(const proto::Record& record, int32_t step) {
  std::vector<bool> pruned(static_cast<size_t>(record.pruned_at_step_size()), false);
  for (int i = 0; i < record.pruned_at_step_size(); ++i) {
    const int32_t s = record.pruned_at_step(i);
    pruned[static_cast<size_t>(i)] = s >= 0 && s <= step;
  }
  return pruned;
}

absl::StatusOr<int32_t> NearestStep(const proto::Record& record, double target, double tolerance) {
  if (record.steps_size() == 0) {
    return absl::FailedPreconditionError("the record has no completed step");
  }
  if (!(target >= 0 && target < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("target sparsity must be in [0, 1), got ", target));
  }
  int32_t best = 0;
  for (int32_t i = 1; i < record.steps_size(); ++i) {
    if (std::fabs(record.steps(i).sparsity() - target) <
        std::fabs(record.steps(best).sparsity() - target)) {
      best = i;
    }
  }
  const double reached = record.steps(record.steps_size() - 1).sparsity();
  if (target > reached + tolerance) {
    return absl::OutOfRangeError(
        absl::StrCat("target sparsity ", target, " is above the highest sparsity the run reached (",
                     reached, " after step ", record.steps_size() - 1, ")"));
  }
  return best;
}

}  // namespace gisp
