// SafetensorsArchive: one model.safetensors or the shards named by model.safetensors.index.json.
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gisp/base/json.h"
#include "gisp/base/status.h"
#include "gisp/io/safetensors.h"

namespace gisp {
namespace {

// A shard name must stay inside the model directory. A NUL would cut the name short at the
// system call, so the file opened would not be the one named.
bool IsSafeRelativePath(absl::string_view name) {
  if (name.empty() || name[0] == '/' || name.find('\0') != absl::string_view::npos) return false;
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part == "..") return false;
  }
  return true;
}

// Reads weight_map as (tensor name, shard file) pairs in index order.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadWeightMap(
    const std::string& index_path) {
  absl::StatusOr<std::string> text = ReadFile(index_path);
  if (!text.ok()) return Annotate(text.status(), "cannot read the safetensors index");
  GISP_ASSIGN_OR_RETURN(Json index, ParseJson(*text, index_path));
  const Json* map = index.Find("weight_map");
  if (map == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_path, ": required field \"weight_map\" is missing"));
  }
  if (!map->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        index_path,
        ": field \"weight_map\" must be an object mapping tensor names to shard files"));
  }
  std::vector<std::pair<std::string, std::string>> out;
  std::map<absl::string_view, absl::string_view> shard_of;
  for (const auto& [name, file] : map->object()) {
    if (!file.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": weight_map entry \"", name,
                                                     "\" must be a file name string, got ",
                                                     file.Dump()));
    }
    if (!IsSafeRelativePath(file.string_value())) {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path, ": weight_map entry \"", name, "\" names shard \"",
                       absl::CEscape(file.string_value()),
                       "\", which is not a relative path inside the model directory"));
    }
    // JSON objects may repeat a key; an index that maps one tensor twice is ambiguous.
    auto [it, inserted] = shard_of.emplace(name, file.string_value());
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": weight_map lists tensor \"",
                                                     name, "\" twice (shards \"", it->second,
                                                     "\" and \"", file.string_value(), "\")"));
    }
    out.emplace_back(name, file.string_value());
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(index_path, ": \"weight_map\" is empty"));
  }
  return out;
}

}  // namespace

absl::StatusOr<SafetensorsArchive> SafetensorsArchive::Open(const std::string& model_dir) {
  if (!IsDirectory(model_dir)) {
    return absl::NotFoundError(
        FileExists(model_dir) ? absl::StrCat(model_dir, " is not a directory")
                              : absl::StrCat("model directory ", model_dir, " does not exist"));
  }
  SafetensorsArchive archive;
  archive.dir_ = model_dir;
  const std::string single = JoinPath(model_dir, kSafetensorsSingleFile);
  const std::string index_path = JoinPath(model_dir, kSafetensorsIndexFile);
  if (FileExists(single)) {
    GISP_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(single));
    for (const auto& e : file.entries()) archive.file_of_[e.name] = 0;
    archive.files_.push_back(std::move(file));
    return archive;
  }
  if (!FileExists(index_path)) {
    std::string hint;
    if (FileExists(JoinPath(model_dir, "pytorch_model.bin")) ||
        FileExists(JoinPath(model_dir, "pytorch_model.bin.index.json"))) {
      hint =
          " (found PyTorch .bin weights: gisp reads only safetensors; re-save the model with "
          "save_pretrained(..., safe_serialization=True))";
    }
    return absl::NotFoundError(absl::StrCat(model_dir, ": no ", kSafetensorsSingleFile, " and no ",
                                            kSafetensorsIndexFile, hint));
  }
  archive.index_path_ = index_path;
  GISP_ASSIGN_OR_RETURN(auto weight_map, ReadWeightMap(index_path));

  // Open every shard once, in order of first mention.
  std::map<std::string, size_t> shard_position;
  for (const auto& [name, shard] : weight_map) {
    if (shard_position.count(shard) != 0) continue;
    const std::string shard_path = JoinPath(model_dir, shard);
    if (!FileExists(shard_path)) {
      return absl::NotFoundError(absl::StrCat(index_path, ": shard \"", shard, "\" (holding \"",
                                              name, "\" and maybe others) does not exist at ",
                                              shard_path));
    }
    GISP_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(shard_path));
    shard_position[shard] = archive.files_.size();
    archive.files_.push_back(std::move(file));
  }
  // The index decides where each listed tensor lives.
  for (const auto& [name, shard] : weight_map) {
    const size_t pos = shard_position[shard];
    if (!archive.files_[pos].Contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path, ": weight_map maps \"", name, "\" to shard \"", shard,
                       "\", but ", archive.files_[pos].path(), " has no such tensor"));
    }
    archive.file_of_[name] = pos;
  }
  // Every tensor a shard holds must be in the index: an index that disagrees with its shards
  // is a broken or tampered upload, and which copy a loader picks would be undefined. A tensor
  // stored in two shards is reported with both.
  std::set<absl::string_view> listed;
  for (const auto& entry : weight_map) listed.insert(entry.first);
  std::map<absl::string_view, size_t> unlisted;  // name -> first shard holding it
  for (size_t pos = 0; pos < archive.files_.size(); ++pos) {
    for (const auto& e : archive.files_[pos].entries()) {
      if (listed.count(e.name) != 0) continue;
      auto [it, inserted] = unlisted.emplace(e.name, pos);
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat(index_path, ": tensor \"", e.name, "\" is stored in both ",
                         archive.files_[it->second].path(), " and ", archive.files_[pos].path(),
                         " and weight_map does not say which to use"));
      }
    }
  }
  if (!unlisted.empty()) {
    const auto& [name, pos] = *unlisted.begin();
    return absl::InvalidArgumentError(
        absl::StrCat(index_path, ": tensor \"", name, "\" is stored in ",
                     archive.files_[pos].path(), " but weight_map does not list it (",
                     unlisted.size(), " such tensors); the index and the shards disagree"));
  }
  return archive;
}

std::vector<std::string> SafetensorsArchive::Names() const {
  std::vector<std::string> names;
  names.reserve(file_of_.size());
  for (const auto& [name, pos] : file_of_) names.push_back(name);
  return names;
}

const SafetensorsFile* SafetensorsArchive::FileOf(absl::string_view name) const {
  auto it = file_of_.find(name);
  return it == file_of_.end() ? nullptr : &files_[it->second];
}

const SafetensorsEntry* SafetensorsArchive::Find(absl::string_view name) const {
  const SafetensorsFile* file = FileOf(name);
  return file == nullptr ? nullptr : file->Find(name);
}

absl::StatusOr<Tensor> SafetensorsArchive::Get(absl::string_view name) const {
  const SafetensorsFile* file = FileOf(name);
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(index_path_.empty() ? JoinPath(dir_, kSafetensorsSingleFile) : index_path_,
                     ": no tensor \"", name, "\""));
  }
  return file->Get(name);
}

}  // namespace gisp
