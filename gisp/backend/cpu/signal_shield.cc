#include "gisp/backend/cpu/signal_shield.h"

#include <omp.h>
#include <pthread.h>

#include <initializer_list>

namespace gisp {

namespace {

// Set on an OpenMP worker once it blocks the asynchronous signals (for the rest of its life).
thread_local bool worker_shielded = false;
// On a thread that starts OpenMP teams: the largest team whose workers are known to be shielded.
// libgomp keeps one pool of workers per such thread and reuses it; a worker it creates later
// inherits the mask of the thread that creates it, which is shielded at that moment.
thread_local int team_shielded = 1;

}  // namespace

sigset_t AsyncSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int sync : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT}) {
    sigdelset(&set, sync);
  }
  return set;
}

ScopedSignalShield::ScopedSignalShield() {
  static const sigset_t block = AsyncSignals();  // once: the shield goes up around every GEMM
  restore_ = pthread_sigmask(SIG_BLOCK, &block, &previous_) == 0;
  const int team = omp_get_max_threads();
  if (team > team_shielded && !omp_in_parallel()) {
    // Workers created before now (by gisp's own kernels or by the host) may not block them yet.
#pragma omp parallel num_threads(team)
    {
      if (!worker_shielded && omp_get_thread_num() != 0) {
        worker_shielded = pthread_sigmask(SIG_BLOCK, &block, nullptr) == 0;
      }
    }
    team_shielded = team;
  }
}

ScopedSignalShield::~ScopedSignalShield() {
  if (restore_) pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace gisp
