#include "gisp/io/staged_files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// Distinguishes temporaries of one process (several StagedFiles may target one directory).
std::atomic<uint64_t> temp_counter{0};

}  // namespace

absl::StatusOr<std::unique_ptr<TempFile>> TempFile::Create(const std::string& final_path) {
  const size_t slash = final_path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : final_path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? final_path : final_path.substr(slash + 1);
  if (base.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output path \"", final_path, "\" names a directory, expected a file"));
  }
  // Temporaries of this target left by a killed writer would otherwise stay forever.
  RemoveStaleTemporaries(dir, absl::StrCat(".", base, ".gisp-tmp."));
  std::unique_ptr<TempFile> file(new TempFile());
  file->final_path_ = final_path;
  // Hidden (leading dot) so a loader scanning the directory never mistakes it for an output.
  file->temp_path_ =
      absl::StrCat(dir, ".", base, ".gisp-tmp.", ::getpid(), ".", temp_counter.fetch_add(1));
  file->fd_ = ::open(file->temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (file->fd_ < 0) return ErrnoError("cannot create", file->temp_path_, errno);
  return file;
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

absl::Status TempFile::Write(const void* data, size_t n) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("writing ", final_path_, ": file already finished"));
  }
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    // Linux writes at most ~2 GiB per call; ask for 1 GiB at a time.
    const size_t chunk = std::min<size_t>(n, size_t{1} << 30);
    const ssize_t written = ::write(fd_, p, chunk);
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", final_path_, errno);
    }
    p += written;
    n -= static_cast<size_t>(written);
    bytes_written_ += static_cast<uint64_t>(written);
  }
  return absl::OkStatus();
}

absl::Status TempFile::Finish() {
  if (fd_ < 0) return absl::OkStatus();
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError("cannot flush", final_path_, err);
  }
  if (::close(fd) != 0) return ErrnoError("cannot close", final_path_, errno);
  return absl::OkStatus();
}

absl::Status TempFile::Commit() {
  if (committed_) return absl::OkStatus();
  GISP_RETURN_IF_ERROR(Finish());
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return ErrnoError("cannot rename onto", final_path_, errno);
  }
  committed_ = true;
  return absl::OkStatus();
}

absl::StatusOr<TempFile*> StagedFiles::Add(const std::string& final_path) {
  for (const auto& f : files_) {
    if (f->final_path() == final_path) {
      return absl::InternalError(absl::StrCat("output ", final_path, " staged twice"));
    }
  }
  GISP_ASSIGN_OR_RETURN(std::unique_ptr<TempFile> file, TempFile::Create(final_path));
  files_.push_back(std::move(file));
  return files_.back().get();
}

absl::Status StagedFiles::AddContents(const std::string& final_path, absl::string_view contents) {
  GISP_ASSIGN_OR_RETURN(TempFile * file, Add(final_path));
  return file->Write(contents);
}

absl::Status StagedFiles::Commit() {
  // Everything is on disk before the first rename, so a failure here changes nothing visible.
  for (auto& f : files_) {
    absl::Status s = f->Finish();
    if (!s.ok()) {
      files_.clear();
      return s;
    }
  }
  for (auto& f : files_) {
    absl::Status s = f->Commit();
    if (!s.ok()) {
      files_.clear();
      return s;
    }
  }
  files_.clear();
  return absl::OkStatus();
}

}  // namespace gisp
