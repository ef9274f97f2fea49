// Records: load/save, serializations, queries.
#include "gisp/prune/record.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "c_api/internal.h"
#include "gisp/base/status.h"

using gisp::capi::Guard;

namespace {

absl::Status CheckCapacity(const char* function, size_t capacity, int64_t needed) {
  if (static_cast<int64_t>(capacity) < needed) {
    return absl::InvalidArgumentError(absl::StrCat(
        function, ": capacity ", capacity, " is smaller than the ", needed, " entries to write"));
  }
  return absl::OkStatus();
}

}  // namespace

extern "C" {

gisp_status* gisp_record_load(const char* path, gisp_record** out) {
  GISP_C_REQUIRE(path);
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(gisp::proto::Record record, gisp::LoadRecord(path));
    *out = new gisp_record{std::move(record)};
    return absl::OkStatus();
  });
}

gisp_status* gisp_record_save(const gisp_record* record, const char* path) {
  GISP_C_REQUIRE(record);
  GISP_C_REQUIRE(path);
  return Guard(__func__, [&]() { return gisp::SaveRecord(record->record, path); });
}

gisp_status* gisp_record_to_json(const gisp_record* record, char** json) {
  GISP_C_REQUIRE(record);
  GISP_C_REQUIRE(json);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(std::string text, gisp::RecordToJson(record->record));
    *json = gisp::capi::CopyString(text);
    return absl::OkStatus();
  });
}

gisp_status* gisp_record_to_bytes(const gisp_record* record, uint8_t** data, size_t* size) {
  GISP_C_REQUIRE(record);
  GISP_C_REQUIRE(data);
  GISP_C_REQUIRE(size);
  return Guard(__func__, [&]() -> absl::Status {
    const std::string bytes = gisp::RecordToBinary(record->record);
    uint8_t* buf = static_cast<uint8_t*>(std::malloc(std::max<size_t>(1, bytes.size())));
    if (buf == nullptr) return absl::ResourceExhaustedError("gisp_record_to_bytes: out of memory");
    std::memcpy(buf, bytes.data(), bytes.size());
    *data = buf;
    *size = bytes.size();
    return absl::OkStatus();
  });
}

gisp_status* gisp_record_from_bytes(const uint8_t* data, size_t size, gisp_record** out) {
  GISP_C_REQUIRE(out);
  if (size > 0) GISP_C_REQUIRE(data);
  return Guard(__func__, [&]() -> absl::Status {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    GISP_ASSIGN_OR_RETURN(gisp::proto::Record record,
                          gisp::RecordFromBytes(bytes, "gisp_record_from_bytes"));
    *out = new gisp_record{std::move(record)};
    return absl::OkStatus();
  });
}

void gisp_record_free(gisp_record* record) { delete record; }

int32_t gisp_record_num_steps(const gisp_record* record) {
  return record == nullptr ? 0 : record->record.steps_size();
}

int64_t gisp_record_num_units(const gisp_record* record) {
  return record == nullptr ? 0 : record->record.pruned_at_step_size();
}

bool gisp_record_complete(const gisp_record* record) {
  return record != nullptr && record->record.complete();
}

gisp_status* gisp_record_unit_steps(const gisp_record* record, int32_t* out, size_t capacity) {
  GISP_C_REQUIRE(record);
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    const auto& steps = record->record.pruned_at_step();
    GISP_RETURN_IF_ERROR(CheckCapacity("gisp_record_unit_steps", capacity, steps.size()));
    std::copy(steps.begin(), steps.end(), out);
    return absl::OkStatus();
  });
}

gisp_status* gisp_record_step_sparsity(const gisp_record* record, double* out, size_t capacity) {
  GISP_C_REQUIRE(record);
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_RETURN_IF_ERROR(
        CheckCapacity("gisp_record_step_sparsity", capacity, record->record.steps_size()));
    for (int i = 0; i < record->record.steps_size(); ++i) {
      out[i] = record->record.steps(i).sparsity();
    }
    return absl::OkStatus();
  });
}

gisp_status* gisp_record_step_loss(const gisp_record* record, double* out, size_t capacity) {
  GISP_C_REQUIRE(record);
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_RETURN_IF_ERROR(
        CheckCapacity("gisp_record_step_loss", capacity, record->record.steps_size()));
    for (int i = 0; i < record->record.steps_size(); ++i) {
      out[i] = record->record.steps(i).calibration_loss();
    }
    return absl::OkStatus();
  });
}

gisp_status* gisp_record_nearest_step(const gisp_record* record, double target, int32_t* step) {
  GISP_C_REQUIRE(record);
  GISP_C_REQUIRE(step);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(*step, gisp::NearestStep(record->record, target));
    return absl::OkStatus();
  });
}

}  // extern "C"
