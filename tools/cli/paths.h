// Path handling for `bazel run`: the binary runs inside its runfiles tree, so user-supplied
// relative paths are resolved against the directory the user ran bazel from
// ($BUILD_WORKING_DIRECTORY), while the embedded defaults come from the runfiles.
#ifndef GISP_TOOLS_CLI_PATHS_H_
#define GISP_TOOLS_CLI_PATHS_H_

#include <string>

namespace gisp_cli {

std::string Join(const std::string& a, const std::string& b);

// An absolute path for a user-supplied one ("" stays "").
std::string ResolveUserPath(const std::string& path);

// A path the user gave, kept both ways: `path` (absolute) for the file system, `given` (as
// written on the command line) for everything printed or reported.
struct UserPath {
  std::string path;
  std::string given;

  static UserPath Resolve(const std::string& given) { return {ResolveUserPath(given), given}; }
  UserPath Child(const std::string& name) const { return {Join(path, name), Join(given, name)}; }
};
// An absolute path for a file shipped in the runfiles (e.g. "testdata/tiny/model").
std::string RunfilesPath(const std::string& relative);
bool PathExists(const std::string& path);
// Creates `dir` (and parents) and checks it is writable by writing and removing a probe file.
// Returns "" on success, else a message naming the directory.
std::string PrepareOutputDir(const std::string& dir);

}  // namespace gisp_cli

#endif  // GISP_TOOLS_CLI_PATHS_H_
