// All-or-nothing output directories for exports: the files are written into a hidden sibling
// staging directory that is renamed into place only when everything succeeded, so a failed or
// interrupted export leaves nothing that looks like a model.
#ifndef GISP_EXPORT_OUTPUT_DIR_H_
#define GISP_EXPORT_OUTPUT_DIR_H_

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace gisp {

// Refuses (FailedPrecondition, naming the path) when `dir` exists and is not an empty
// directory; creates the parent directories; runs `write(staging_dir)`; on success renames the
// staging directory to `dir`, on failure removes it and returns the error.
absl::Status WriteDirectoryAtomically(const std::string& dir,
                                      const std::function<absl::Status(const std::string&)>& write);

// Removes `path` and everything below it (no symlinks are followed). OK when it does not exist.
absl::Status RemoveTree(const std::string& path);

}  // namespace gisp

#endif  // GISP_EXPORT_OUTPUT_DIR_H_
