// A model.safetensors file (header + data): opened, then every tensor read in full, so an
// entry whose offsets escape the file would be caught by ASan on the mapping.
#include <cstdint>
#include <string>

#include "gisp/io/safetensors.h"
#include "tools/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = gisp_fuzz::WriteInput("model.safetensors", data, size);
  absl::StatusOr<gisp::SafetensorsFile> file = gisp::SafetensorsFile::Open(path);
  if (!file.ok()) {
    FUZZ_CHECK(file.status().code() != absl::StatusCode::kInternal);
    return 0;
  }
  volatile uint8_t sink = 0;
  for (const auto& e : file->entries()) {
    absl::StatusOr<gisp::Tensor> t = file->Get(e.name);
    if (!t.ok()) continue;
    const uint8_t* bytes = static_cast<const uint8_t*>(t->raw());
    for (size_t i = 0; i < t->bytes(); ++i) sink = sink ^ bytes[i];
  }
  return 0;
}
