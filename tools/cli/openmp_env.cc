#include "tools/cli/openmp_env.h"

#include <unistd.h>

#include <cstdlib>

namespace gisp_cli {

void UseSharedCoreOpenMpDefaults(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) {
    return;
  }
  if (setenv("GOMP_SPINCOUNT", "10000", 1) != 0) return;
  // /proc/self/exe is this binary whatever argv[0] says (a relative path, a symlink in Bazel's
  // runfiles); the environment, including the runfiles variables, carries over.
  execv("/proc/self/exe", argv);
  // Still here: exec failed. Undo, so the setting never half-applies.
  unsetenv("GOMP_SPINCOUNT");
}

}  // namespace gisp_cli
