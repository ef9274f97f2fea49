// OpenMP's wait behaviour for gisp's command-line tools. libgomp reads OMP_WAIT_POLICY and
// GOMP_SPINCOUNT once, when it is loaded, which happens before main(): a program can only change
// them for itself by setting them and re-executing. gisp's tools do that once, when the user set
// neither: OpenMP's default spins ~300k iterations at every barrier before sleeping, which on a
// machine whose cores are shared lets idle threads burn the time slices the working ones need
// (3.2x slower under two busy processes on 2 cores, against 2.2x with a 10k spin count, at the
// same speed when the machine is quiet: docs/benchmarks.md, "Sharing the cores").
#ifndef GISP_TOOLS_CLI_OPENMP_ENV_H_
#define GISP_TOOLS_CLI_OPENMP_ENV_H_

namespace gisp_cli {

// Sets GOMP_SPINCOUNT=10000 and re-executes the program with the same arguments, unless
// OMP_WAIT_POLICY or GOMP_SPINCOUNT is already set (the user's choice wins) or this already
// happened. Returns normally when nothing was needed or the re-execution failed (the program
// then runs with OpenMP's defaults).
void UseSharedCoreOpenMpDefaults(char** argv);

}  // namespace gisp_cli

#endif  // GISP_TOOLS_CLI_OPENMP_ENV_H_
