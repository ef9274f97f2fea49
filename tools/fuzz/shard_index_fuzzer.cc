// model.safetensors.index.json over two fixed shards (s1: a, b; s2: c, d): the index is the
// fuzzed input; every tensor the archive then names must be readable.
#include <cstdint>
#include <string>

#include "gisp/io/safetensors.h"
#include "tools/fuzz/fuzz_util.h"

namespace {

// A safetensors file of f32 tensors of 2 elements each.
std::string Shard(const std::vector<std::string>& names) {
  std::string header = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) header += ",";
    header += "\"" + names[i] + "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" +
              std::to_string(8 * i) + "," + std::to_string(8 * i + 8) + "]}";
  }
  header += "}";
  while (header.size() % 8 != 0) header += " ";
  std::string out(8, '\0');
  for (int b = 0; b < 8; ++b) out[b] = static_cast<char>((header.size() >> (8 * b)) & 0xff);
  return out + header + std::string(8 * names.size(), '\x01');
}

const std::string& ModelDir() {
  static const std::string* dir = [] {
    for (const auto& [file, names] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"s1.safetensors", {"a", "b"}}, {"s2.safetensors", {"c", "d"}}}) {
      const std::string bytes = Shard(names);
      gisp_fuzz::WriteInput(file, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    return new std::string(gisp_fuzz::ScratchDir());
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = ModelDir();
  gisp_fuzz::WriteInput("model.safetensors.index.json", data, size);
  absl::StatusOr<gisp::SafetensorsArchive> archive = gisp::SafetensorsArchive::Open(dir);
  if (!archive.ok()) {
    FUZZ_CHECK(archive.status().code() != absl::StatusCode::kInternal);
    return 0;
  }
  for (const std::string& name : archive->Names()) {
    absl::StatusOr<gisp::Tensor> t = archive->Get(name);
    FUZZ_CHECK(t.ok());
    FUZZ_CHECK(t->f32()[1] == t->f32()[1]);
  }
  return 0;
}
