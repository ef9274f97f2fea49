#include "gisp/export/output_dir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "gisp/base/file.h"
#include "gisp/base/status.h"

namespace gisp {
namespace {

// True when `dir` is a directory without entries.
bool IsEmptyDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string Base(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

absl::Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? absl::OkStatus() : ErrnoError("cannot remove", path, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return ErrnoError("cannot open", path, errno);
    absl::Status status = absl::OkStatus();
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      absl::Status s = RemoveTree(JoinPath(path, name));
      if (!s.ok() && status.ok()) status = s;
    }
    ::closedir(d);
    GISP_RETURN_IF_ERROR(status);
    if (::rmdir(path.c_str()) != 0) return ErrnoError("cannot remove", path, errno);
    return absl::OkStatus();
  }
  if (::unlink(path.c_str()) != 0) return ErrnoError("cannot remove", path, errno);
  return absl::OkStatus();
}

absl::Status WriteDirectoryAtomically(
    const std::string& dir, const std::function<absl::Status(const std::string&)>& write) {
  std::string target = dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  if (target.empty()) return absl::InvalidArgumentError("the output directory is empty");
  struct stat st;
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (exists && !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(target, " exists and is not a directory; choose a new output directory"));
  }
  if (exists && !IsEmptyDirectory(target)) {
    return absl::FailedPreconditionError(absl::StrCat(
        target,
        " exists and is not empty; gisp writes exports only into a new or empty directory"));
  }
  const std::string parent = Parent(target);
  GISP_RETURN_IF_ERROR(MakeDirectories(parent));
  const std::string staging =
      JoinPath(parent, absl::StrCat(".", Base(target), ".gisp-partial-", ::getpid()));
  GISP_RETURN_IF_ERROR(RemoveTree(staging));  // left over by a killed export of this process id
  if (::mkdir(staging.c_str(), 0755) != 0) return ErrnoError("cannot create", staging, errno);
  absl::Status status = write(staging);
  if (status.ok() && exists && ::rmdir(target.c_str()) != 0) {
    status = ErrnoError("cannot replace the empty directory", target, errno);
  }
  if (status.ok() && ::rename(staging.c_str(), target.c_str()) != 0) {
    status = ErrnoError(absl::StrCat("cannot rename ", staging, " to"), target, errno);
  }
  if (!status.ok()) {
    RemoveTree(staging).IgnoreError();
    return status;
  }
  return absl::OkStatus();
}

}  // namespace gisp
