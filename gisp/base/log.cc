#include "gisp/base/log.h"

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
  std::shared_ptr<LogSink> sink;
  {
    std::lock_guard<std::mutex> lock(SinkMutex());
    sink = SinkSlot();
  }
  if (sink) (*sink)(level, message);
}

}  // namespace gisp
