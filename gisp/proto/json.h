// gisp's JSON files and strings are protobuf's JSON mapping of gisp.proto messages, written with
// one set of options so every file reads alike: field names as in the .proto (snake_case, what
// gisp's consumers read), every scalar field printed even when zero (a step 0 or a 0.0 loss is
// not left out), and indented. A proto3 `optional` field that is not set is left out: that is
// how a file says "absent" (docs/formats.md, "JSON"). int64 fields are JSON strings and NaN is
// the string "NaN", both by the mapping's rules.
#ifndef GISP_PROTO_JSON_H_
#define GISP_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/statusor.h"

namespace gisp {

absl::StatusOr<std::string> ProtoToJson(const google::protobuf::Message& message);

// Parses `json` into `message` (cleared first). InvalidArgument names `source` and protobuf's
// reason; unknown fields are errors too, so a misspelled key is not silently dropped.
absl::Status ProtoFromJson(const std::string& json, const std::string& source,
                           google::protobuf::Message* message);

}  // namespace gisp

#endif  // GISP_PROTO_JSON_H_
