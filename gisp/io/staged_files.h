// Outputs written under temporary names and renamed into place only when complete.
//
// gisp/base/file.h's WriteFileAtomic needs the whole file in memory; checkpoints are many GB, so
// the safetensors writer streams into a TempFile instead. StagedFiles groups the files of one
// output directory (shards, index, config.json): everything is written and fsynced under hidden
// temporary names first, and only then renamed, in the order the files were added. A failure or a
// crash before Commit() leaves the previous contents of the directory untouched (the destructor
// removes the temporaries); a crash during the renames leaves each file either old or new, never
// half-written.
#ifndef GISP_IO_STAGED_FILES_H_
#define GISP_IO_STAGED_FILES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {

// One output file being written. Not thread-safe.
class TempFile {
 public:
  // Creates "<dir of final_path>/.<basename>.gisp-tmp.<pid>.<n>" for writing.
  static absl::StatusOr<std::unique_ptr<TempFile>> Create(const std::string& final_path);
  ~TempFile();  // removes the temporary unless it was committed
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  // Appends `n` bytes. Errors name the final path.
  absl::Status Write(const void* data, size_t n);
  absl::Status Write(absl::string_view data) { return Write(data.data(), data.size()); }
  // Flushes to disk and closes; called by Commit() when not yet done.
  absl::Status Finish();
  // Finish() then rename onto the final path.
  absl::Status Commit();

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  TempFile() = default;
  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
  uint64_t bytes_written_ = 0;
};

// Several outputs committed together. Not thread-safe.
class StagedFiles {
 public:
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;

  // Starts a new output; the returned pointer stays owned by this object.
  absl::StatusOr<TempFile*> Add(const std::string& final_path);
  // Adds an output with the given contents.
  absl::Status AddContents(const std::string& final_path, absl::string_view contents);
  // Finishes every file, then renames them in the order they were added. After an error the
  // files not yet renamed are removed.
  absl::Status Commit();

 private:
  std::vector<std::unique_ptr<TempFile>> files_;
};

}  // namespace gisp

#endif  // GISP_IO_STAGED_FILES_H_
