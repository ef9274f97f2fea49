// A pruning record as binary protobuf, through the C ABI as a caller would use it: from bytes,
// then (when accepted) as JSON and materialized against the embedded tiny model at its first,
// last and an out-of-range step. The issue-9 crash (an edited gqa_unit) was on this path.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "c_api/gisp.h"
#include "tools/fuzz/fuzz_util.h"

namespace {

gisp_model* Model() {
  static gisp_model* model = [] {
    gisp_model* m = nullptr;
    gisp_status* s = gisp_model_load("testdata/tiny/model", GISP_DEVICE_CPU, 0, &m);
    if (s != nullptr) {
      std::fprintf(stderr, "run from the repository root: %s\n", gisp_status_message(s));
      std::abort();
    }
    return m;
  }();
  return model;
}

// A finding when the library reports a bug in itself for input it should validate.
void Check(gisp_status* s) {
  if (s == nullptr) return;
  if (gisp_status_code(s) == GISP_INTERNAL) {
    std::fprintf(stderr, "GISP_INTERNAL: %s\n", gisp_status_message(s));
    std::abort();
  }
  gisp_status_free(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gisp_model* model = Model();
  gisp_record* record = nullptr;
  gisp_status* s = gisp_record_from_bytes(data, size, &record);
  if (s != nullptr) {
    Check(s);
    return 0;
  }
  char* json = nullptr;
  Check(gisp_record_to_json(record, &json));
  if (json != nullptr) gisp_string_free(json);
  for (int32_t step : {0, 1, 1000000, -1}) {
    gisp_model* sliced = nullptr;
    s = gisp_model_materialize(model, record, step, &sliced);
    Check(s);
    if (s == nullptr) gisp_model_free(sliced);
  }
  gisp_record_free(record);
  return 0;
}
