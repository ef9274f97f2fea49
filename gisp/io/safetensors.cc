// SafetensorsFile: header parsing and validation, tensor views. (The archive is in
// safetensors_archive.cc.)
#include "gisp/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// A JSON value for a message, cut short so a huge header cannot flood the log.
std::string Brief(const Json& value) {
  std::string s = value.Dump();
  if (s.size() > 80) s = absl::StrCat(s.substr(0, 77), "...");
  return s;
}

uint64_t ReadLittleEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Checks and converts one tensor entry of the header. `where` is "<path>: tensor \"<name>\"".
absl::StatusOr<SafetensorsEntry> ParseEntry(const std::string& name, const Json& value,
                                            uint64_t data_size, const std::string& where) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where,
                     ": entry must be an object with \"dtype\", \"shape\" and "
                     "\"data_offsets\", got ",
                     Brief(value)));
  }
  auto field = [&](absl::string_view key) -> absl::StatusOr<const Json*> {
    const Json* v = value.Find(key);
    if (v == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": required field \"", key, "\" is missing"));
    }
    return v;
  };
  SafetensorsEntry entry;
  entry.name = name;

  GISP_ASSIGN_OR_RETURN(const Json* dtype, field("dtype"));
  if (!dtype->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": field \"dtype\" must be a string, got ", Brief(*dtype)));
  }
  absl::StatusOr<DType> parsed = DTypeFromSafetensors(dtype->string_value());
  if (!parsed.ok()) return Annotate(parsed.status(), absl::StrCat(where, ": field \"dtype\""));
  entry.dtype = *parsed;

  GISP_ASSIGN_OR_RETURN(const Json* shape, field("shape"));
  if (!shape->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": field \"shape\" must be an array of integers, got ", Brief(*shape)));
  }
  uint64_t numel = 1;
  bool numel_overflow = false;
  for (const Json& d : shape->array()) {
    if (!d.is_integer()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": field \"shape\" must be an array of integers, got ", Brief(*shape)));
    }
    if (d.int_value() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": field \"shape\" ", Brief(*shape),
                                                     " has a negative dimension ", d.int_value()));
    }
    entry.shape.push_back(d.int_value());
    numel_overflow |= __builtin_mul_overflow(numel, static_cast<uint64_t>(d.int_value()), &numel);
  }

  GISP_ASSIGN_OR_RETURN(const Json* offsets, field("data_offsets"));
  if (!offsets->is_array() || offsets->array().size() != 2 || !offsets->array()[0].is_integer() ||
      !offsets->array()[1].is_integer() || offsets->array()[0].int_value() < 0 ||
      offsets->array()[1].int_value() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": field \"data_offsets\" must be [begin, end] with two non-negative integers, got ",
        Brief(*offsets)));
  }
  entry.begin = static_cast<uint64_t>(offsets->array()[0].int_value());
  entry.end = static_cast<uint64_t>(offsets->array()[1].int_value());
  const std::string range = absl::StrCat("[", entry.begin, ", ", entry.end, "]");
  if (entry.begin > entry.end) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": field \"data_offsets\" ", range, " has begin after end"));
  }
  if (entry.end > data_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": field \"data_offsets\" ", range, " ends beyond the data section (",
                     data_size, " bytes): the file is truncated or the offsets are wrong"));
  }
  uint64_t bytes = 0;
  if (numel_overflow || __builtin_mul_overflow(numel, DTypeSize(entry.dtype), &bytes) ||
      bytes != entry.end - entry.begin) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": field \"data_offsets\" ", range, " holds ", entry.end - entry.begin,
        " bytes, but dtype ", dtype->string_value(), " and shape ", ShapeToString(entry.shape),
        " need ",
        numel_overflow ? std::string("more than 2^64")
                       : absl::StrCat(numel, " elements * ", DTypeSize(entry.dtype), " bytes")));
  }
  return entry;
}

absl::Status ParseMetadata(const Json& value, const std::string& path,
                           std::map<std::string, std::string>* metadata) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": \"__metadata__\" must be an object of strings, got ", Brief(value)));
  }
  for (const auto& [key, v] : value.object()) {
    if (!v.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": \"__metadata__\" field \"", key,
                                                     "\" must be a string, got ", Brief(v)));
    }
    (*metadata)[key] = v.string_value();
  }
  return absl::OkStatus();
}

// Tensors must not share bytes (a writer bug or a crafted file). Empty tensors own no bytes.
absl::Status CheckNoOverlap(const std::vector<SafetensorsEntry>& entries, const std::string& path) {
  std::vector<const SafetensorsEntry*> sorted;
  for (const auto& e : entries) {
    if (e.end > e.begin) sorted.push_back(&e);
  }
  std::sort(sorted.begin(), sorted.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  const SafetensorsEntry* reach = nullptr;  // the entry reaching furthest so far
  for (const SafetensorsEntry* e : sorted) {
    if (reach != nullptr && e->begin < reach->end) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": tensors \"", reach->name, "\" (data_offsets [", reach->begin, ", ", reach->end,
          "]) and \"", e->name, "\" (data_offsets [", e->begin, ", ", e->end, "]) overlap"));
    }
    if (reach == nullptr || e->end > reach->end) reach = e;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  if (IsDirectory(path)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is a directory, expected a .safetensors file"));
  }
  absl::StatusOr<std::shared_ptr<MappedFile>> mapped = MappedFile::Open(path);
  if (!mapped.ok()) return Annotate(mapped.status(), "cannot read safetensors file");
  SafetensorsFile out;
  out.file_ = std::move(mapped).value();
  const MappedFile& file = *out.file_;
  if (file.size() < 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": file is ", file.size(),
        " bytes, too short for a safetensors header (8-byte length + JSON): truncated or empty"));
  }
  const uint64_t header_len = ReadLittleEndian64(file.data());
  if (header_len > file.size() - 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": header length ", header_len, " (the first 8 bytes) exceeds the ", file.size() - 8,
        " bytes that follow: the file is truncated or not a safetensors file"));
  }
  out.data_offset_ = 8 + header_len;
  const uint64_t data_size = file.size() - out.data_offset_;
  GISP_ASSIGN_OR_RETURN(Json header, ParseJson(absl::string_view(file.data() + 8, header_len),
                                               absl::StrCat(path, " (safetensors header)")));
  if (!header.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": safetensors header must be a JSON object, got ", Brief(header)));
  }
  std::set<absl::string_view> seen;
  for (const auto& [name, value] : header.object()) {
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor \"", name, "\" appears twice in the header"));
    }
    if (name == "__metadata__") {
      GISP_RETURN_IF_ERROR(ParseMetadata(value, path, &out.metadata_));
      continue;
    }
    GISP_ASSIGN_OR_RETURN(
        SafetensorsEntry entry,
        ParseEntry(name, value, data_size, absl::StrCat(path, ": tensor \"", name, "\"")));
    out.index_[name] = out.entries_.size();
    out.entries_.push_back(std::move(entry));
  }
  GISP_RETURN_IF_ERROR(CheckNoOverlap(out.entries_, path));
  out.mapping_ = Buffer::WrapHost(file.data(), file.size(), out.file_);
  return out;
}

const SafetensorsEntry* SafetensorsFile::Find(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

bool SafetensorsFile::IsAligned(const SafetensorsEntry& entry) const {
  // The mapping starts on a page boundary, so file offsets decide alignment.
  return (data_offset_ + entry.begin) % DTypeSize(entry.dtype) == 0;
}

absl::StatusOr<Tensor> SafetensorsFile::Get(absl::string_view name) const {
  const SafetensorsEntry* entry = Find(name);
  if (entry == nullptr) {
    return absl::NotFoundError(absl::StrCat(path(), ": no tensor \"", name, "\" (the file has ",
                                            entries_.size(), " tensors)"));
  }
  return GetEntry(*entry);
}

absl::StatusOr<Tensor> SafetensorsFile::GetEntry(const SafetensorsEntry& entry) const {
  const size_t offset = static_cast<size_t>(data_offset_ + entry.begin);
  if (IsAligned(entry)) return Tensor(mapping_, offset, entry.shape, entry.dtype);
  const size_t bytes = static_cast<size_t>(entry.end - entry.begin);
  absl::StatusOr<std::shared_ptr<Buffer>> copy = Buffer::AllocateHost(bytes);
  if (!copy.ok()) {
    return Annotate(copy.status(),
                    absl::StrCat(path(), ": copying misaligned tensor \"", entry.name, "\""));
  }
  std::memcpy((*copy)->data(), file_->data() + offset, bytes);
  return Tensor(std::move(copy).value(), 0, entry.shape, entry.dtype);
}

}  // namespace gisp
