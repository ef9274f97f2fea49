// Files: whole-file reads, atomic writes (temp file + fsync + rename, so a reader never sees a
// half-written output and a crash loses nothing that was there before), and read-only mappings.
#ifndef GISP_BASE_FILE_H_
#define GISP_BASE_FILE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gisp {

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to `path` atomically: the old file (if any) stays intact until the new one is
// complete on disk.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view contents);

bool FileExists(const std::string& path);
bool IsDirectory(const std::string& path);

// Creates `path` and missing parents (like mkdir -p). Errors name the directory that failed.
absl::Status MakeDirectories(const std::string& path);

// Removes the files "<dir>/<prefix><pid>..." (dir "" is the working directory) left by processes
// that no longer exist (a killed writer cannot remove its own temporaries). Temporaries of this
// process and of live processes are kept. Best effort: errors are ignored, since a stale temporary
// only wastes space.
void RemoveStaleTemporaries(const std::string& dir, absl::string_view prefix);

// A status for a failed system call on `path`: "<what> <path>: <strerror>", with a code that
// tells callers what kind of failure it was (not found, permission, disk full, other).
absl::Status ErrnoError(absl::string_view what, const std::string& path, int err);

// Joins path components with '/'.
std::string JoinPath(absl::string_view a, absl::string_view b);

// A read-only memory map of a whole file. Keep the shared_ptr alive while using data().
class MappedFile {
 public:
  static absl::StatusOr<std::shared_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace gisp

#endif  // GISP_BASE_FILE_H_
