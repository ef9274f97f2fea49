#include "gisp/base/call_context.h"

#include <omp.h>

#include "absl/strings/str_cat.h"

namespace gisp {
namespace {

// One per thread: calls on different threads (different models) have independent contexts.
thread_local const CallContext* current = nullptr;

}  // namespace

ScopedCallContext::ScopedCallContext(const CallContext* context) : previous_(current) {
  current = context;
  previous_threads_ = omp_get_max_threads();
  // omp_set_num_threads sets this thread's nthreads ICV only: parallel regions this thread
  // starts (ours and oneDNN's, which reads omp_get_max_threads) use the budget, while other
  // threads' calls keep theirs.
  if (context != nullptr && context->num_threads > 0) omp_set_num_threads(context->num_threads);
}

ScopedCallContext::~ScopedCallContext() {
  omp_set_num_threads(previous_threads_);
  current = previous_;
}

const CallContext* CurrentCallContext() { return current; }

absl::Status CheckCancelled(absl::string_view stage) {
  const CallContext* c = current;
  if (c != nullptr && c->cancel != nullptr && c->cancel->raised.load(std::memory_order_relaxed)) {
    return absl::CancelledError(absl::StrCat("cancelled during ", stage));
  }
  return absl::OkStatus();
}

absl::Status ReportProgress(absl::string_view stage, int64_t done, int64_t total) {
  if (absl::Status s = CheckCancelled(stage); !s.ok()) return s;
  const CallContext* c = current;
  if (c != nullptr && c->progress && !c->progress(stage, done, total)) {
    return absl::CancelledError(absl::StrCat("cancelled by the progress callback during ", stage,
                                             " (", done, "/", total, ")"));
  }
  return absl::OkStatus();
}

int CurrentThreadCount() { return omp_get_max_threads(); }

}  // namespace gisp
