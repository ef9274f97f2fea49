// Logging hook. The library never writes to stdout/stderr on its own: messages go to a sink the
// embedding program installs (the CLI prints them; the C API forwards them to a callback).
#ifndef GISP_BASE_LOG_H_
#define GISP_BASE_LOG_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace gisp {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

using LogSink = std::function<void(LogLevel, absl::string_view)>;

// Installs the process-wide sink (nullptr: discard). Thread-safe.
void SetLogSink(LogSink sink);

// Sends a message to the sink, if any. Thread-safe.
void Log(LogLevel level, absl::string_view message);

}  // namespace gisp

#endif  // GISP_BASE_LOG_H_
