// ProfilingBackend: wraps another backend and accounts wall time per verb (synchronizing after
// each call, so device time is attributed to the verb that queued it). Used by the benchmarks
// to explain where a calibration pass spends its time; adds a few microseconds per call.
#ifndef GISP_BACKEND_PROFILING_BACKEND_H_
#define GISP_BACKEND_PROFILING_BACKEND_H_

#include <map>
#include <memory>
#include <string>

#include "gisp/backend/backend.h"

namespace gisp {

struct VerbProfile {
  int64_t calls = 0;
  double seconds = 0;
  double flops = 0;  // counted for Gemm and attention
};

class ProfilingBackend;

// Wraps `inner` (not owned; must outlive the wrapper).
std::unique_ptr<ProfilingBackend> NewProfilingBackend(Backend* inner);

class ProfilingBackend : public Backend {
 public:
  // Per verb, e.g. "Gemm", "AttentionBackward".
  virtual const std::map<std::string, VerbProfile>& profile() const = 0;
  virtual void Reset() = 0;
  // A table sorted by time: verb, calls, seconds, share, GFLOP/s.
  virtual std::string Report() const = 0;
};

}  // namespace gisp

#endif  // GISP_BACKEND_PROFILING_BACKEND_H_
