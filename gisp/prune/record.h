// The record of a pruning run (gisp.proto Record): per unit the step that pruned it, per step
// the measured sparsity and calibration loss, fingerprints of the model and the calibration data,
// and the full configuration. Materializing any step's subnetwork needs only the record and the
// original model ("prune once, deploy many"). Binary protobuf or JSON, written atomically.
#ifndef GISP_PRUNE_RECORD_H_
#define GISP_PRUNE_RECORD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/model/config.h"
#include "gisp/proto/gisp.pb.h"
#include "gisp/units/units.h"

namespace gisp {

// 2: fingerprints are XXH3-128 (docs/formats.md). Records of format 1 carry fingerprints of a
// former custom hash that this gisp no longer computes: they are refused (ValidateRecord says
// how to proceed) and cannot be converted, since converting would need the model and the
// calibration data to be hashed anew, which is a new run.
constexpr uint32_t kRecordFormatVersion = 2;
// The oldest format this gisp reads.
constexpr uint32_t kOldestReadableRecordFormatVersion = 2;

// Writes the record: JSON when `path` ends in ".json", binary protobuf otherwise. Atomic.
absl::Status SaveRecord(const proto::Record& record, const std::string& path);
// Reads either format (JSON is recognized by its leading '{'). Validates the structure: unit
// count, step indices, sparsity values. Errors name the file and the field.
absl::StatusOr<proto::Record> LoadRecord(const std::string& path);
// Serializations used by the C API and the bindings.
std::string RecordToBinary(const proto::Record& record);
absl::StatusOr<std::string> RecordToJson(const proto::Record& record);
absl::StatusOr<proto::Record> RecordFromBytes(const std::string& bytes, const std::string& source);

// Checks internal consistency (sizes, step indices in range, sparsity monotone).
absl::Status ValidateRecord(const proto::Record& record, const std::string& source);

// The unit space the record was made in, re-derived from its layout.
UnitSpace RecordUnitSpace(const proto::Record& record, const LlamaConfig& dense);

// Units pruned at or before `step` (step -1: none).
std::vector<bool> PrunedAtOrBefore(const proto::Record& record, int32_t step);

// The completed step whose measured sparsity is nearest to `target` (ties: the earlier step).
// Errors when the record has no steps or `target` lies above every recorded sparsity by more than
// `tolerance` (the run did not reach it).
absl::StatusOr<int32_t> NearestStep(const proto::Record& record, double target,
                                    double tolerance = 0.02);

}  // namespace gisp

#endif  // GISP_PRUNE_RECORD_H_
