// JSON Lines input: one JSON object per non-blank line. Errors name the file and line number.
#ifndef GISP_DATA_JSONL_H_
#define GISP_DATA_JSONL_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "gisp/base/json.h"

namespace gisp {

// Calls `fn(object, line_number)` for each line's object; stops at the first error (from
// parsing, a line that is not an object, or `fn`).
absl::Status ReadJsonl(const std::string& path,
                       const std::function<absl::Status(const Json&, int64_t)>& fn);

}  // namespace gisp

#endif  // GISP_DATA_JSONL_H_
