// The resume path: a record as binary protobuf handed to gisp_pruner_create as the record to
// continue, with the calibration set and configuration that tools/fuzz/make_record_seed.cc used
// for the seed (so mutations that keep the fingerprints get past them into ValidateRecord and the
// replay of the recorded steps), then run to the end. The model is loaded again for every input:
// a pruner prunes its model in place. A few dozen executions a second at most; the record target
// covers the parser and validation at full speed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "c_api/gisp.h"
#include "tools/fuzz/fuzz_util.h"

namespace {

void Must(gisp_status* s, const char* what) {
  if (s == nullptr) return;
  std::fprintf(stderr, "%s (run from the repository root): %s\n", what, gisp_status_message(s));
  std::abort();
}

// A finding when the library reports a bug in itself for input it should validate.
bool Ok(gisp_status* s) {
  if (s == nullptr) return true;
  if (gisp_status_code(s) == GISP_INTERNAL) {
    std::fprintf(stderr, "GISP_INTERNAL: %s\n", gisp_status_message(s));
    std::abort();
  }
  gisp_status_free(s);
  return false;
}

// The seed record's calibration set and configuration (make_record_seed.cc).
const gisp_calibration* Calibration() {
  static const gisp_calibration* data = [] {
    static std::vector<int32_t> a(32), b(32);
    for (int i = 0; i < 32; ++i) {
      a[i] = 1 + (i * 7) % 200;
      b[i] = 1 + (i * 13) % 300;
    }
    const int32_t* tokens[] = {a.data(), b.data()};
    const size_t lengths[] = {a.size(), b.size()};
    gisp_calibration* d = nullptr;
    Must(gisp_calibration_from_tokens(2, tokens, lengths, nullptr, nullptr, &d), "calibration");
    return d;
  }();
  return data;
}

const gisp_prune_config* Config() {
  static const gisp_prune_config* config = [] {
    gisp_prune_config* c = nullptr;
    Must(gisp_prune_config_create(&c), "config");
    Must(gisp_prune_config_set_ratio(c, 0.5), "ratio");
    Must(gisp_prune_config_set_steps(c, 3), "steps");
    return c;
  }();
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gisp_record* record = nullptr;
  if (!Ok(gisp_record_from_bytes(data, size, &record))) return 0;
  gisp_model* model = nullptr;
  Must(gisp_model_load("testdata/tiny/model", GISP_DEVICE_CPU, 0, &model), "load");
  gisp_pruner* pruner = nullptr;
  if (Ok(gisp_pruner_create(model, Calibration(), Config(), record, &pruner))) {
    FUZZ_CHECK(gisp_pruner_next_step(pruner) <= gisp_pruner_total_steps(pruner));
    if (Ok(gisp_pruner_run(pruner))) FUZZ_CHECK(gisp_pruner_done(pruner));
    gisp_pruner_free(pruner);
  }
  gisp_model_free(model);
  gisp_record_free(record);
  return 0;
}
