#include "gisp/base/log.h"

#include "gisp/base/call_context.h"

#include <memory>
#include <mutex>

namespace gisp {
namespace {

std::mutex& SinkMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

std::shared_ptr<LogSink>& SinkSlot() {
  static std::shared_ptr<LogSink>* slot = new std::shared_ptr<LogSink>();
  return *slot;
}

}  // namespace

void SetLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(SinkMutex());
  SinkSlot() = sink ? std::make_shared<LogSink>(std::move(sink)) : nullptr;
}

void Log(LogLevel level, absl::string_view message) {
  // A call made under a context with its own sink logs there (a service routes each job's
  // messages to that job); everything else goes to the process-wide sink.
  if (const CallContext* c = CurrentCallContext(); c != nullptr && c->sink) {
    if (static_cast<int>(level) >= static_cast<int>(c->min_level)) c->sink(level, message);
    return;
  }
  std::shared_ptr<LogSink> sink;
  {
    std::lock_guard<std::mutex> lock(SinkMutex());
    sink = SinkSlot();
  }
  if (sink) (*sink)(level, message);
}

}  // namespace gisp
