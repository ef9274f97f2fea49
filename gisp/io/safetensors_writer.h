// Writing safetensors files and HF-style sharded checkpoints.
//
// Layout of a written file: 8-byte little-endian header length, compact JSON header padded with
// spaces so the data section starts at a multiple of 8, then the tensors with no gaps, ordered by
// element size (largest first, otherwise in the given order) so every tensor is aligned to its
// element size and the reader can hand out views. Files are streamed (tensor data is never
// assembled in memory) into a temporary file that is fsynced and renamed into place.
#ifndef GISP_IO_SAFETENSORS_WRITER_H_
#define GISP_IO_SAFETENSORS_WRITER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gisp/base/dtype.h"
#include "gisp/io/staged_files.h"
#include "gisp/tensor/tensor.h"

namespace gisp {

// (name, host tensor) in the order to write.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct SafetensorsWriteOptions {
  // Stored as "__metadata__" (omitted when empty). transformers refuses files without
  // {"format": "pt"}; SaveCheckpoint adds it.
  std::map<std::string, std::string> metadata;
  // When set (f32, bf16, f16 or f64), floating-point tensors are stored in this dtype, converted
  // in small chunks while writing, so no converted copy of the model is held in memory. i32
  // tensors are stored unchanged.
  std::optional<DType> dtype;
  // Sharded writers only: the most tensor bytes per shard (a larger tensor gets a shard of its
  // own). <= 0: everything in one model.safetensors.
  int64_t max_shard_bytes = 0;
};

// Writes host `tensors` to `path` atomically. Errors name the tensor (duplicate or empty name,
// not on the host, no data) or the path (I/O).
absl::Status WriteSafetensors(const std::string& path, const NamedTensors& tensors,
                              const std::map<std::string, std::string>& metadata = {});

// Writes `tensors` into directory `dir` (which must exist) as HF does: one model.safetensors
// when they fit in `max_shard_bytes` (or it is <= 0), else model-00001-of-0000N.safetensors ...
// plus model.safetensors.index.json ({"metadata": {"total_size": bytes}, "weight_map": {...}}).
// Returns the names of the files written, relative to `dir`. Every file is committed only after
// all of them are complete.
absl::StatusOr<std::vector<std::string>> WriteSafetensorsSharded(
    const std::string& dir, const NamedTensors& tensors,
    const std::map<std::string, std::string>& metadata, int64_t max_shard_bytes);

// Building blocks for callers that commit more files together (SaveCheckpoint): as above, but the
// files are only staged in `staged`; nothing is visible before staged->Commit().
absl::Status StageSafetensors(StagedFiles* staged, const std::string& path,
                              const NamedTensors& tensors, const SafetensorsWriteOptions& options);
absl::StatusOr<std::vector<std::string>> StageSafetensorsSharded(
    StagedFiles* staged, const std::string& dir, const NamedTensors& tensors,
    const SafetensorsWriteOptions& options);

// "model-00002-of-00005.safetensors" for index 1 (0-based) of 5.
std::string ShardFileName(int index, int count);

}  // namespace gisp

#endif  // GISP_IO_SAFETENSORS_WRITER_H_
