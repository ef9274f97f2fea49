#include "gisp/export/gguf_writer.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/base/call_context.h"
#include "gisp/base/dtype.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// GGUF metadata value types.
constexpr uint32_t kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9;
constexpr uint64_t kAlignment = 32;

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void PutString(std::string* out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out->append(s);
}

void Pad(std::string* out, uint64_t alignment) {
  while (out->size() % alignment != 0) out->push_back('\0');
}

DType StorageOf(GgmlType type) {
  switch (type) {
    case GgmlType::kF16:
      return DType::kF16;
    case GgmlType::kBF16:
      return DType::kBF16;
    case GgmlType::kF32:
      break;
  }
  return DType::kF32;
}

}  // namespace

void GgufWriter::Key(const std::string& key, uint32_t value_type) {
  keys_.push_back(key);
  PutString(&kv_, key);
  Put<uint32_t>(&kv_, value_type);
}

void GgufWriter::AddString(const std::string& key, const std::string& value) {
  Key(key, kString);
  PutString(&kv_, value);
}
void GgufWriter::AddU32(const std::string& key, uint32_t value) {
  Key(key, kU32);
  Put(&kv_, value);
}
void GgufWriter::AddI32(const std::string& key, int32_t value) {
  Key(key, kI32);
  Put(&kv_, value);
}
void GgufWriter::AddF32(const std::string& key, float value) {
  Key(key, kF32);
  Put(&kv_, value);
}
void GgufWriter::AddBool(const std::string& key, bool value) {
  Key(key, kBool);
  Put<uint8_t>(&kv_, value ? 1 : 0);
}
void GgufWriter::AddU32Array(const std::string& key, const std::vector<uint32_t>& values) {
  Key(key, kArray);
  Put<uint32_t>(&kv_, kU32);
  Put<uint64_t>(&kv_, values.size());
  for (uint32_t v : values) Put(&kv_, v);
}
void GgufWriter::AddI32Array(const std::string& key, const std::vector<int32_t>& values) {
  Key(key, kArray);
  Put<uint32_t>(&kv_, kI32);
  Put<uint64_t>(&kv_, values.size());
  for (int32_t v : values) Put(&kv_, v);
}
void GgufWriter::AddF32Array(const std::string& key, const std::vector<float>& values) {
  Key(key, kArray);
  Put<uint32_t>(&kv_, kF32);
  Put<uint64_t>(&kv_, values.size());
  for (float v : values) Put(&kv_, v);
}
void GgufWriter::AddStringArray(const std::string& key, const std::vector<std::string>& values) {
  Key(key, kArray);
  Put<uint32_t>(&kv_, kString);
  Put<uint64_t>(&kv_, values.size());
  for (const std::string& v : values) PutString(&kv_, v);
}

void GgufWriter::AddTensor(const std::string& name, const Tensor& t, GgmlType type) {
  tensors_.push_back({name, t, type});
}

absl::Status GgufWriter::Write(const std::string& path) const {
  std::string out;
  Put<uint32_t>(&out, 0x46554747);  // "GGUF"
  Put<uint32_t>(&out, 3);
  Put<uint64_t>(&out, tensors_.size());
  Put<uint64_t>(&out, keys_.size());
  out += kv_;
  // Tensor infos with offsets relative to the aligned data section.
  uint64_t offset = 0;
  std::vector<uint64_t> offsets;
  for (const TensorEntry& e : tensors_) {
    PutString(&out, e.name);
    const Shape& shape = e.tensor.shape();
    Put<uint32_t>(&out, static_cast<uint32_t>(shape.size()));
    for (size_t i = shape.size(); i-- > 0;) Put<uint64_t>(&out, static_cast<uint64_t>(shape[i]));
    Put<uint32_t>(&out, static_cast<uint32_t>(e.type));
    Put<uint64_t>(&out, offset);
    offsets.push_back(offset);
    const uint64_t bytes = static_cast<uint64_t>(e.tensor.numel()) * DTypeSize(StorageOf(e.type));
    offset += (bytes + kAlignment - 1) / kAlignment * kAlignment;
  }
  Pad(&out, kAlignment);
  const size_t data_start = out.size();
  out.resize(data_start + offset, '\0');
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const TensorEntry& e = tensors_[i];
    GISP_RETURN_IF_ERROR(CheckCancelled("writing " + e.name));
    const DType to = StorageOf(e.type);
    if (e.tensor.dtype() != DType::kF32 && e.tensor.dtype() != DType::kBF16 &&
        e.tensor.dtype() != DType::kF16) {
      return absl::InvalidArgumentError(
          absl::StrCat("GGUF tensor ", e.name, " has dtype ", DTypeName(e.tensor.dtype())));
    }
    ConvertElements(e.tensor.dtype(), e.tensor.raw(), to, &out[data_start + offsets[i]],
                    static_cast<size_t>(e.tensor.numel()));
  }
  return WriteFileAtomic(path, out);
}

}  // namespace gisp
