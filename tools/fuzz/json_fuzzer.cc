// gisp/base/json.cc: every document either fails with InvalidArgument or round-trips through
// Dump() to the same value.
#include <cstdint>
#include <string>

#include "gisp/base/json.h"
#include "tools/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<gisp::Json> j = gisp::ParseJson(text, "fuzz.json");
  if (!j.ok()) {
    FUZZ_CHECK(j.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  const std::string once = j->Dump();
  absl::StatusOr<gisp::Json> again = gisp::ParseJson(once, "dumped");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->Dump() == once);
  (void)j->Dump(2);
  return 0;
}
