#include "gisp/prune/record.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"

namespace gisp {

const char* GispVersion() { return "0.1.0"; }

std::string RecordToBinary(const proto::Record& record) {
  std::string out;
  record.SerializeToString(&out);
  return out;
}

absl::StatusOr<std::string> RecordToJson(const proto::Record& record) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  auto status = google::protobuf::util::MessageToJsonString(record, &out, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("record to JSON: ", status.ToString()));
  }
  return out;
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
    google::protobuf::util::JsonParseOptions options;
    auto status = google::protobuf::util::JsonStringToMessage(bytes, &record, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": not a gisp record (JSON): ", status.ToString()));
    }
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
  if (r.format_version() == 0 || r.format_version() > kRecordFormatVersion) {
    return bad(absl::StrCat("format_version ", r.format_version(), " (this gisp reads 1..",
                            kRecordFormatVersion, ")"));
  }
  const auto& layout = r.layout();
  if (layout.num_layers() <= 0 || layout.head_units_per_layer() < 0 ||
      layout.channel_units_per_layer() < 0 ||
      layout.protected_layer_size() != layout.num_layers()) {
    return bad("layout fields are inconsistent");
  }
  const int64_t units = static_cast<int64_t>(layout.num_layers()) *
                        (layout.head_units_per_layer() + layout.channel_units_per_layer());
  if (r.pruned_at_step_size() != units) {
    return bad(absl::StrCat("pruned_at_step has ", r.pruned_at_step_size(), " entries for ", units,
                            " units"));
  }
  const int32_t steps = r.steps_size();
  for (int32_t s : r.pruned_at_step()) {
    if (s < -1 || s >= steps) {
      return bad(absl::StrCat("pruned_at_step entry ", s, " outside [-1, ", steps, ")"));
    }
  }
  double last = -1;
  for (int32_t i = 0; i < steps; ++i) {
    const auto& st = r.steps(i);
    if (st.index() != i) return bad(absl::StrCat("step ", i, " has index ", st.index()));
    if (!(st.sparsity() >= 0 && st.sparsity() <= 1) || st.sparsity() < last) {
      return bad(
          absl::StrCat("step ", i, " sparsity ", st.sparsity(), " is not in [0, 1] or decreases"));
    }
    last = st.sparsity();
  }
  if (r.config().steps() <= 0 || steps > r.config().steps()) {
    return bad(absl::StrCat(steps, " steps recorded for config.steps = ", r.config().steps()));
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
    s.kind = record.config().gqa_unit() == proto::GQA_UNIT_KV_GROUP ? HeadUnitKind::kKvGroup
                                                                    : HeadUnitKind::kQueryHead;
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
