#include "gisp/io/safetensors_writer.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gisp/base/call_context.h"
#include "gisp/base/file.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"
#include "gisp/io/safetensors.h"

namespace gisp {
namespace {

bool IsFloating(DType d) {
  return d == DType::kF32 || d == DType::kBF16 || d == DType::kF16 || d == DType::kF64;
}

// A tensor checked and ready to write.
struct Planned {
  const std::string* name;
  const Tensor* tensor;
  DType dtype;     // stored dtype
  uint64_t bytes;  // stored size
};

absl::StatusOr<std::vector<Planned>> Plan(const NamedTensors& tensors,
                                          const SafetensorsWriteOptions& options,
                                          const std::string& where) {
  if (options.dtype.has_value() && !IsFloating(*options.dtype)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": storage dtype must be f32, bf16, f16 or f64, got ", DTypeName(*options.dtype)));
  }
  std::vector<Planned> out;
  std::set<absl::string_view> names;
  for (const auto& [name, tensor] : tensors) {
    const std::string what = absl::StrCat(where, ": tensor \"", name, "\"");
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": a tensor has an empty name"));
    }
    if (name == "__metadata__") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"__metadata__\" is reserved and cannot name a tensor"));
    }
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(what, " is given twice"));
    }
    if (tensor.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " has no data"));
    if (!tensor.device().is_cpu()) {
      return absl::InvalidArgumentError(absl::StrCat(what, " is on ", tensor.device().ToString(),
                                                     "; copy it to the host before writing"));
    }
    for (int64_t d : tensor.shape()) {
      if (d < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has negative shape ", ShapeToString(tensor.shape())));
      }
    }
    if (tensor.offset_bytes() + tensor.bytes() > tensor.buffer()->bytes()) {
      return absl::InternalError(
          absl::StrCat(what, " ", tensor.DebugString(), " extends beyond its buffer"));
    }
    Planned p;
    p.name = &name;
    p.tensor = &tensor;
    p.dtype =
        options.dtype.has_value() && IsFloating(tensor.dtype()) ? *options.dtype : tensor.dtype();
    p.bytes = static_cast<uint64_t>(tensor.numel()) * DTypeSize(p.dtype);
    out.push_back(p);
  }
  return out;
}

// Writes one safetensors file from planned tensors into `file`.
absl::Status WriteFile(TempFile* file, std::vector<Planned> tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Largest element size first: with an 8-aligned data section every tensor is then aligned.
  std::stable_sort(tensors.begin(), tensors.end(), [](const Planned& a, const Planned& b) {
    return DTypeSize(a.dtype) > DTypeSize(b.dtype);
  });
  // Members are collected in a vector: Json::Set is linear, and names are already unique.
  Json::Object members;
  if (!metadata.empty()) {
    Json::Object meta;
    for (const auto& [k, v] : metadata) meta.emplace_back(k, Json::String(v));
    members.emplace_back("__metadata__", Json::MakeObject(std::move(meta)));
  }
  uint64_t offset = 0;
  for (const Planned& p : tensors) {
    Json shape = Json::MakeArray();
    for (int64_t d : p.tensor->shape()) shape.Append(Json::Int(d));
    Json entry = Json::MakeObject();
    entry.Set("dtype", Json::String(std::string(DTypeToSafetensors(p.dtype))));
    entry.Set("shape", std::move(shape));
    entry.Set("data_offsets", Json::MakeArray({Json::Int(static_cast<int64_t>(offset)),
                                               Json::Int(static_cast<int64_t>(offset + p.bytes))}));
    members.emplace_back(*p.name, std::move(entry));
    offset += p.bytes;
  }
  std::string text = Json::MakeObject(std::move(members)).Dump();
  // The spec pads the header with spaces so the data section is 8-byte aligned.
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  char length[8];
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i, n >>= 8) length[i] = static_cast<char>(n & 0xff);
  GISP_RETURN_IF_ERROR(file->Write(length, 8));
  GISP_RETURN_IF_ERROR(file->Write(text));

  std::vector<char> scratch;
  for (const Planned& p : tensors) {
    GISP_RETURN_IF_ERROR(CheckCancelled("writing " + *p.name));
    const Tensor& t = *p.tensor;
    if (p.dtype == t.dtype()) {
      GISP_RETURN_IF_ERROR(file->Write(t.raw(), p.bytes));
      continue;
    }
    // Convert a chunk at a time: bounded memory however large the tensor.
    constexpr size_t kChunk = size_t{1} << 20;
    scratch.resize(kChunk * DTypeSize(p.dtype));
    const size_t numel = static_cast<size_t>(t.numel());
    const char* src = static_cast<const char*>(t.raw());
    for (size_t i = 0; i < numel; i += kChunk) {
      const size_t count = std::min(kChunk, numel - i);
      ConvertElements(t.dtype(), src + i * DTypeSize(t.dtype()), p.dtype, scratch.data(), count);
      GISP_RETURN_IF_ERROR(file->Write(scratch.data(), count * DTypeSize(p.dtype)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string ShardFileName(int index, int count) {
  return absl::StrFormat("model-%05d-of-%05d.safetensors", index + 1, count);
}

absl::Status StageSafetensors(StagedFiles* staged, const std::string& path,
                              const NamedTensors& tensors, const SafetensorsWriteOptions& options) {
  GISP_ASSIGN_OR_RETURN(std::vector<Planned> plan, Plan(tensors, options, path));
  GISP_ASSIGN_OR_RETURN(TempFile * file, staged->Add(path));
  return WriteFile(file, std::move(plan), options.metadata);
}

absl::StatusOr<std::vector<std::string>> StageSafetensorsSharded(
    StagedFiles* staged, const std::string& dir, const NamedTensors& tensors,
    const SafetensorsWriteOptions& options) {
  if (!IsDirectory(dir)) {
    return absl::NotFoundError(absl::StrCat("output directory ", dir, " does not exist"));
  }
  GISP_ASSIGN_OR_RETURN(std::vector<Planned> plan, Plan(tensors, options, dir));
  // Greedy in the given order, as transformers' save_pretrained shards.
  std::vector<std::vector<Planned>> shards(1);
  uint64_t shard_bytes = 0;
  uint64_t total_bytes = 0;
  for (const Planned& p : plan) {
    if (options.max_shard_bytes > 0 && !shards.back().empty() &&
        shard_bytes + p.bytes > static_cast<uint64_t>(options.max_shard_bytes)) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(p);
    shard_bytes += p.bytes;
    total_bytes += p.bytes;
  }
  std::vector<std::string> written;
  if (shards.size() == 1) {
    GISP_ASSIGN_OR_RETURN(TempFile * file, staged->Add(JoinPath(dir, kSafetensorsSingleFile)));
    GISP_RETURN_IF_ERROR(WriteFile(file, std::move(shards[0]), options.metadata));
    written.push_back(kSafetensorsSingleFile);
    return written;
  }
  std::map<std::string, std::string> weight_map;  // sorted by name, as transformers writes it
  const int count = static_cast<int>(shards.size());
  for (int i = 0; i < count; ++i) {
    const std::string name = ShardFileName(i, count);
    for (const Planned& p : shards[i]) weight_map[*p.name] = name;
    GISP_ASSIGN_OR_RETURN(TempFile * file, staged->Add(JoinPath(dir, name)));
    GISP_RETURN_IF_ERROR(WriteFile(file, std::move(shards[i]), options.metadata));
    written.push_back(name);
  }
  Json::Object map;
  for (const auto& [tensor, file] : weight_map) map.emplace_back(tensor, Json::String(file));
  Json index = Json::MakeObject();
  index.Set("metadata",
            Json::MakeObject({{"total_size", Json::Int(static_cast<int64_t>(total_bytes))}}));
  index.Set("weight_map", Json::MakeObject(std::move(map)));
  // Staged last, so it is renamed into place after every shard it names.
  GISP_RETURN_IF_ERROR(
      staged->AddContents(JoinPath(dir, kSafetensorsIndexFile), index.Dump(2) + "\n"));
  written.push_back(kSafetensorsIndexFile);
  return written;
}

absl::Status WriteSafetensors(const std::string& path, const NamedTensors& tensors,
                              const std::map<std::string, std::string>& metadata) {
  StagedFiles staged;
  SafetensorsWriteOptions options;
  options.metadata = metadata;
  GISP_RETURN_IF_ERROR(StageSafetensors(&staged, path, tensors, options));
  return staged.Commit();
}

absl::StatusOr<std::vector<std::string>> WriteSafetensorsSharded(
    const std::string& dir, const NamedTensors& tensors,
    const std::map<std::string, std::string>& metadata, int64_t max_shard_bytes) {
  StagedFiles staged;
  SafetensorsWriteOptions options;
  options.metadata = metadata;
  options.max_shard_bytes = max_shard_bytes;
  GISP_ASSIGN_OR_RETURN(std::vector<std::string> files,
                        StageSafetensorsSharded(&staged, dir, tensors, options));
  GISP_RETURN_IF_ERROR(staged.Commit());
  return files;
}

}  // namespace gisp
