// Writes a small valid record of the embedded tiny model (3 steps, ratio 0.5, two calibration
// sequences) to argv[1], as the record fuzzer's seed: mutations of a real record reach the
// validation and materialization code that random bytes never would.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "c_api/gisp.h"

namespace {

void Ok(gisp_status* s, const char* what) {
  if (s == nullptr) return;
  std::fprintf(stderr, "%s: %s\n", what, gisp_status_message(s));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.pb (run from the repository root)\n", argv[0]);
    return 2;
  }
  gisp_model* model = nullptr;
  Ok(gisp_model_load("testdata/tiny/model", GISP_DEVICE_CPU, 0, &model), "load");
  std::vector<int32_t> a(32), b(32);
  for (int i = 0; i < 32; ++i) {
    a[i] = 1 + (i * 7) % 200;
    b[i] = 1 + (i * 13) % 300;
  }
  const int32_t* tokens[] = {a.data(), b.data()};
  const size_t lengths[] = {a.size(), b.size()};
  gisp_calibration* data = nullptr;
  Ok(gisp_calibration_from_tokens(2, tokens, lengths, nullptr, nullptr, &data), "calibration");
  gisp_prune_config* config = nullptr;
  Ok(gisp_prune_config_create(&config), "config");
  Ok(gisp_prune_config_set_ratio(config, 0.5), "ratio");
  Ok(gisp_prune_config_set_steps(config, 3), "steps");
  gisp_pruner* pruner = nullptr;
  Ok(gisp_pruner_create(model, data, config, nullptr, &pruner), "pruner");
  Ok(gisp_pruner_run(pruner), "run");
  gisp_record* record = nullptr;
  Ok(gisp_pruner_record(pruner, &record), "record");
  uint8_t* bytes = nullptr;
  size_t size = 0;
  Ok(gisp_record_to_bytes(record, &bytes, &size), "bytes");
  FILE* f = std::fopen(argv[1], "wb");
  if (f == nullptr || std::fwrite(bytes, 1, size, f) != size || std::fclose(f) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  gisp_buffer_free(bytes);
  gisp_record_free(record);
  gisp_pruner_free(pruner);
  gisp_prune_config_free(config);
  gisp_calibration_free(data);
  gisp_model_free(model);
  return 0;
}
