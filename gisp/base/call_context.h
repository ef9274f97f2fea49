// What the host granted the library call running on this thread: a cancel flag, a progress
// hook, a log sink and a thread budget. The C API installs one per call (ScopedCallContext) from
// the model's gisp_context; the core reads it at its natural check points (per layer, batch,
// chunk or tensor) without every signature in between carrying it. Outside such a scope the
// defaults apply: nothing cancels, logs go to the process-wide sink, OpenMP keeps its setting.
#ifndef GISP_BASE_CALL_CONTEXT_H_
#define GISP_BASE_CALL_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gisp/base/log.h"

namespace gisp {

// A flag any thread may raise; shared by the host's handle and every context holding it.
struct CancelFlag {
  std::atomic<bool> raised{false};
};

struct CallContext {
  // Raised by another thread to stop the call; may be null.
  std::shared_ptr<const CancelFlag> cancel;
  // Called at check points that report progress (stage, done, total); false cancels. May be
  // empty.
  std::function<bool(absl::string_view stage, int64_t done, int64_t total)> progress;
  // Receives this call's log messages at or above min_level; empty: the process-wide sink.
  LogSink sink;
  LogLevel min_level = LogLevel::kInfo;
  // OpenMP threads for parallel regions started by this call (and oneDNN's); 0: unchanged.
  int num_threads = 0;
  // Bytes for activations and working buffers; 0: automatic. Read by the model's memory sizing.
  int64_t memory_budget = 0;
};

// Installs `context` for the calling thread until destruction (scopes nest; the inner one
// wins) and applies its thread budget to OpenMP on this thread, restoring it afterwards.
// `context` must outlive the scope.
class ScopedCallContext {
 public:
  explicit ScopedCallContext(const CallContext* context);
  ~ScopedCallContext();
  ScopedCallContext(const ScopedCallContext&) = delete;
  ScopedCallContext& operator=(const ScopedCallContext&) = delete;

 private:
  const CallContext* previous_;
  int previous_threads_ = 0;
};

// The context of the call running on this thread, or null.
const CallContext* CurrentCallContext();

// Cancelled, naming `stage`, when the current call's flag is raised; OK otherwise (or outside a
// call). Cheap: one atomic load.
absl::Status CheckCancelled(absl::string_view stage);

// CheckCancelled, then the progress hook with (stage, done, total): Cancelled when it returns
// false. Long loops call this once per unit of work (layer, batch, chunk, tensor).
absl::Status ReportProgress(absl::string_view stage, int64_t done, int64_t total);

// The thread count parallel regions started now would use (omp_get_max_threads).
int CurrentThreadCount();

}  // namespace gisp

#endif  // GISP_BASE_CALL_CONTEXT_H_
