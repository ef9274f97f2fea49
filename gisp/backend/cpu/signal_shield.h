// Keeps asynchronous signals away from threads while they run oneDNN's JIT GEMM kernels.
//
// Why: oneDNN's AVX2 sgemm kernel runs with rsp pointing into a heap buffer (a core dump showed
// rsp = a heap page, rip in the JIT code's FMA loop). A signal delivered to a thread inside that
// kernel makes the Linux kernel write the signal frame (a few KiB with the xsave area) just below
// rsp: into the heap. Seen on Zen 3 (never on the AVX-512 machines): a SIGTERM for the CLI's cancel
// token, then glibc's "corrupted size vs. prev_size" at oneDNN's next free (docs/reliability.md).
// Every host that handles signals on its own stack (Python's Ctrl-C, a service's SIGTERM, a
// profiler's SIGPROF) is exposed the same way.
//
// While a shield is up, the calling thread blocks every signal except the synchronous ones
// (faults, SIGABRT). A signal that arrives meanwhile stays pending and is delivered when the
// shield drops, on the thread's ordinary stack, one GEMM later. The OpenMP workers oneDNN uses
// block the same signals for good: the kernel then delivers process-directed signals to a thread
// outside gisp's compute (or to the caller between GEMMs), and cancellation still takes effect
// within one calibration batch.
#ifndef GISP_BACKEND_CPU_SIGNAL_SHIELD_H_
#define GISP_BACKEND_CPU_SIGNAL_SHIELD_H_

#include <signal.h>

namespace gisp {

class ScopedSignalShield {
 public:
  // Blocks asynchronous signals on this thread and on the workers of its OpenMP team.
  ScopedSignalShield();
  // Restores this thread's signal mask; pending signals are delivered here.
  ~ScopedSignalShield();
  ScopedSignalShield(const ScopedSignalShield&) = delete;
  ScopedSignalShield& operator=(const ScopedSignalShield&) = delete;

 private:
  sigset_t previous_;
  bool restore_ = false;
};

// The signals a shield blocks: all but SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS and
// SIGABRT, which a thread raises itself and must receive at once (and SIGKILL/SIGSTOP, which no
// thread can block).
sigset_t AsyncSignals();

}  // namespace gisp

#endif  // GISP_BACKEND_CPU_SIGNAL_SHIELD_H_
