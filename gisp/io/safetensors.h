// Reading safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length N, N bytes of UTF-8 JSON (optionally padded with trailing spaces), then the data
// section. The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
// (offsets relative to the start of the data section); the optional "__metadata__" member maps
// strings to strings.
//
// Files are memory-mapped and every number in the header is checked before it is used, so a
// corrupt or hostile file gives an error, never a read out of bounds. Every error names the file
// and the tensor / field that is wrong.
//
// Tensors are host views into the read-only mapping (no copy, pages load on first touch) when
// their address is a multiple of their element size, which holds for every file written by the
// reference implementation and by gisp (8-byte aligned header, tensors ordered by element size).
// The format itself guarantees no alignment, so a misaligned tensor is copied into an aligned
// host buffer instead: reading a float through a misaligned pointer is undefined behaviour.
// Views are read-only: writing through one faults. Copy a tensor before modifying it.
//
// Lenient where harmless: unused bytes between or after tensors (the reference reader rejects
// them) are accepted; unknown fields inside a tensor entry are ignored.
#ifndef GISP_IO_SAFETENSORS_H_
#define GISP_IO_SAFETENSORS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gisp/base/dtype.h"
#include "gisp/base/file.h"
#include "gisp/tensor/tensor.h"

namespace gisp {

// One tensor as described by a header.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  uint64_t begin = 0;  // byte range in the data section, validated: begin <= end <= data size
  uint64_t end = 0;
};

// One open .safetensors file. Movable; cheap to keep (the mapping is shared with every view).
class SafetensorsFile {
 public:
  // Maps and validates `path`. Errors: NotFound for a missing file, InvalidArgument for a
  // malformed one (message names the path, the tensor and the field).
  static absl::StatusOr<SafetensorsFile> Open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  // Entries in header order.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  // The "__metadata__" strings (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Byte offset of the data section in the file (8 + header length).
  uint64_t data_offset() const { return data_offset_; }

  // nullptr when the file has no tensor `name`.
  const SafetensorsEntry* Find(absl::string_view name) const;
  bool Contains(absl::string_view name) const { return Find(name) != nullptr; }

  // The tensor as a host tensor in the file's dtype: a view of the mapping when aligned, an
  // aligned copy otherwise (see the file comment). NotFound naming the file and tensor when absent.
  absl::StatusOr<Tensor> Get(absl::string_view name) const;
  // As Get, for an entry of entries(). Fails only when a copy cannot be allocated.
  absl::StatusOr<Tensor> GetEntry(const SafetensorsEntry& entry) const;
  // True when GetEntry(entry) returns a view rather than a copy.
  bool IsAligned(const SafetensorsEntry& entry) const;

 private:
  SafetensorsFile() = default;
  std::shared_ptr<MappedFile> file_;
  std::shared_ptr<Buffer> mapping_;  // the whole mapping as a Buffer, parent of every view
  uint64_t data_offset_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> entries_ position
  std::map<std::string, std::string> metadata_;
};

// The safetensors weights of an HF model directory: `model.safetensors`, or the shards listed by
// `model.safetensors.index.json` (its "weight_map" maps tensor name -> shard file name). As in
// transformers, a single `model.safetensors` wins when both exist. Movable.
class SafetensorsArchive {
 public:
  // Errors name the directory, the index file, the shard and the tensor involved: no weights
  // found, a shard listed by the index missing, a name mapped to a shard that lacks it, a tensor
  // stored in two shards, or any SafetensorsFile::Open error.
  static absl::StatusOr<SafetensorsArchive> Open(const std::string& model_dir);

  const std::string& dir() const { return dir_; }
  // Path of the index file, empty for a single model.safetensors.
  const std::string& index_path() const { return index_path_; }
  const std::vector<SafetensorsFile>& files() const { return files_; }
  // Every tensor name in the archive, sorted.
  std::vector<std::string> Names() const;

  const SafetensorsEntry* Find(absl::string_view name) const;
  bool Contains(absl::string_view name) const { return Find(name) != nullptr; }
  // The file holding `name`, nullptr when absent.
  const SafetensorsFile* FileOf(absl::string_view name) const;
  // As SafetensorsFile::Get; NotFound names the directory (and index) and the tensor.
  absl::StatusOr<Tensor> Get(absl::string_view name) const;

 private:
  SafetensorsArchive() = default;
  std::string dir_;
  std::string index_path_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, size_t, std::less<>> file_of_;  // name -> files_ position
};

// File names used by HF for sharded checkpoints.
inline constexpr char kSafetensorsSingleFile[] = "model.safetensors";
inline constexpr char kSafetensorsIndexFile[] = "model.safetensors.index.json";

}  // namespace gisp

#endif  // GISP_IO_SAFETENSORS_H_
