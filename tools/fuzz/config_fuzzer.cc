// config.json -> LlamaConfig: refused with a status, or valid, with every parameter shape
// computable and a round trip through LlamaConfigToJson that parses to the same config.
#include <cstdint>
#include <string>

#include "gisp/base/json.h"
#include "gisp/io/hf_config.h"
#include "gisp/model/weights.h"
#include "tools/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<gisp::Json> j = gisp::ParseJson(text, "config.json");
  if (!j.ok()) return 0;
  absl::StatusOr<gisp::LlamaConfig> c = gisp::ParseLlamaConfig(*j, "config.json");
  if (!c.ok()) {
    FUZZ_CHECK(c.status().code() != absl::StatusCode::kInternal);
    return 0;
  }
  FUZZ_CHECK(c->Validate().ok());
  const std::vector<gisp::ParameterSpec> specs = gisp::ParameterSpecs(*c);
  FUZZ_CHECK(!specs.empty());
  (void)c->TotalParameters();
  const gisp::Json out = gisp::LlamaConfigToJson(*c);
  absl::StatusOr<gisp::LlamaConfig> back = gisp::ParseLlamaConfig(out, "written");
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->num_layers == c->num_layers && back->hidden_size == c->hidden_size);
  // The bias flags survive the round trip (the exports' config.json must state them).
  FUZZ_CHECK(back->HasQkvBias() == c->HasQkvBias() && back->HasOBias() == c->HasOBias() &&
             back->HasMlpBias() == c->HasMlpBias());
  return 0;
}
