#include "tools/cli/paths.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gisp_cli {

std::string Join(const std::string& a, const std::string& b) {
  if (a.empty() || (!b.empty() && b[0] == '/')) return b;
  return a.back() == '/' ? a + b : a + "/" + b;
}

static std::string Cwd() {
  char buf[4096];
  return getcwd(buf, sizeof(buf)) != nullptr ? std::string(buf) : std::string(".");
}

std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* base = std::getenv("BUILD_WORKING_DIRECTORY");
  return Join(base != nullptr && *base != '\0' ? std::string(base) : Cwd(), path);
}

std::string RunfilesPath(const std::string& relative) {
  // Under `bazel run` the working directory is <runfiles>/gisp; when the binary is run directly
  // from bazel-bin, its runfiles sit next to it.
  if (PathExists(relative)) return Join(Cwd(), relative);
  const char* dir = std::getenv("RUNFILES_DIR");
  if (dir != nullptr) return Join(Join(dir, "gisp"), relative);
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = '\0';
    const std::string candidate = Join(std::string(self) + ".runfiles/gisp", relative);
    if (PathExists(candidate)) return candidate;
  }
  return Join(Cwd(), relative);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string PrepareOutputDir(const std::string& dir) {
  std::string partial;
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      partial = dir.substr(0, i);
      if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return "cannot create output directory " + partial + ": " + std::strerror(errno);
      }
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return "output path " + dir + " is not a directory";
  }
  const std::string probe = Join(dir, ".gisp-write-probe");
  FILE* f = std::fopen(probe.c_str(), "w");
  if (f == nullptr) {
    return "output directory " + dir + " is not writable: " + std::strerror(errno);
  }
  std::fclose(f);
  std::remove(probe.c_str());
  return "";
}

}  // namespace gisp_cli
