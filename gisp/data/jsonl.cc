#include "gisp/data/jsonl.h"

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"

namespace gisp {

absl::Status ReadJsonl(const std::string& path,
                       const std::function<absl::Status(const Json&, int64_t)>& fn) {
  GISP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    absl::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == absl::string_view::npos) continue;
    const std::string source = absl::StrCat(path, " line ", line_no);
    GISP_ASSIGN_OR_RETURN(Json obj, ParseJson(line, source));
    if (!obj.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": expected a JSON object"));
    }
    GISP_RETURN_IF_ERROR(fn(obj, line_no));
  }
  return absl::OkStatus();
}

}  // namespace gisp
