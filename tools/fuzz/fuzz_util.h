// Shared by the libFuzzer targets: a private scratch directory per process, and writing the
// input into a file there (most gisp parsers take a path, as they do in production).
#ifndef GISP_TOOLS_FUZZ_FUZZ_UTIL_H_
#define GISP_TOOLS_FUZZ_FUZZ_UTIL_H_

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace gisp_fuzz {

// A directory under $TMPDIR (or /tmp) owned by this process, created on first use.
inline const std::string& ScratchDir() {
  static const std::string* dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base != nullptr ? base : "/tmp") + "/gisp-fuzz-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    return new std::string(templ);
  }();
  return *dir;
}

// Writes `data` to <scratch>/<name> and returns the path.
inline std::string WriteInput(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = ScratchDir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

// Aborts (a finding) when a property that must hold for every input does not.
#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

}  // namespace gisp_fuzz

#endif  // GISP_TOOLS_FUZZ_FUZZ_UTIL_H_
