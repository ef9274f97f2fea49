// A GGUF (version 3) file writer: typed metadata key/values, then tensor infos, then the
// tensor data aligned to `general.alignment` (32). Layout per the GGUF specification
// (ggml's docs/gguf.md): little-endian, strings as u64 length + bytes, dims innermost first.
#ifndef GISP_EXPORT_GGUF_WRITER_H_
#define GISP_EXPORT_GGUF_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gisp/tensor/tensor.h"

namespace gisp {

// ggml tensor types gisp writes.
enum class GgmlType : uint32_t { kF32 = 0, kF16 = 1, kBF16 = 30 };

class GgufWriter {
 public:
  void AddString(const std::string& key, const std::string& value);
  void AddU32(const std::string& key, uint32_t value);
  void AddI32(const std::string& key, int32_t value);
  void AddF32(const std::string& key, float value);
  void AddBool(const std::string& key, bool value);
  void AddU32Array(const std::string& key, const std::vector<uint32_t>& values);
  void AddI32Array(const std::string& key, const std::vector<int32_t>& values);
  void AddF32Array(const std::string& key, const std::vector<float>& values);
  void AddStringArray(const std::string& key, const std::vector<std::string>& values);

  // `t`: host tensor [rows, cols] (or [n]) in any float dtype; stored as `type` with GGUF dims
  // [cols, rows]. The tensor must stay alive until Write().
  void AddTensor(const std::string& name, const Tensor& t, GgmlType type);

  // Writes the file atomically (temporary name, then rename).
  absl::Status Write(const std::string& path) const;

  // Metadata keys in insertion order (for tests and error messages).
  const std::vector<std::string>& keys() const { return keys_; }

 private:
  struct TensorEntry {
    std::string name;
    Tensor tensor;
    GgmlType type;
  };
  void Key(const std::string& key, uint32_t value_type);
  std::string kv_;  // serialized key/value pairs
  std::vector<std::string> keys_;
  std::vector<TensorEntry> tensors_;
};

}  // namespace gisp

#endif  // GISP_EXPORT_GGUF_WRITER_H_
