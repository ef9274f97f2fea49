// Status objects, strings, buffers, version and logging.
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "c_api/internal.h"
#include "gisp/base/log.h"
#include "gisp/base/version.h"

namespace gisp {
namespace capi {

gisp_status* Error(gisp_code code, const std::string& message) {
  try {
    return new gisp_status{code, message, true};
  } catch (...) {
    // Allocating the error itself failed: report a static out-of-memory status.
    static gisp_status* oom = new gisp_status{GISP_RESOURCE_EXHAUSTED, "out of memory", false};
    return oom;
  }
}

gisp_status* NullArgument(const char* function, const char* argument) {
  return Error(GISP_INVALID_ARGUMENT,
               std::string(function) + ": argument `" + argument + "` must not be NULL");
}

namespace {

// gisp's codes and absl's, in both directions (AlreadyExists, which gisp has no code for, reads
// as a failed precondition; a gisp code absl lacks does not occur).
struct CodePair {
  absl::StatusCode absl_code;
  gisp_code c_code;
};
constexpr CodePair kCodes[] = {
    {absl::StatusCode::kInvalidArgument, GISP_INVALID_ARGUMENT},
    {absl::StatusCode::kNotFound, GISP_NOT_FOUND},
    {absl::StatusCode::kFailedPrecondition, GISP_FAILED_PRECONDITION},
    {absl::StatusCode::kOutOfRange, GISP_OUT_OF_RANGE},
    {absl::StatusCode::kUnimplemented, GISP_UNIMPLEMENTED},
    {absl::StatusCode::kUnavailable, GISP_UNAVAILABLE},
    {absl::StatusCode::kResourceExhausted, GISP_RESOURCE_EXHAUSTED},
    {absl::StatusCode::kPermissionDenied, GISP_PERMISSION_DENIED},
    {absl::StatusCode::kCancelled, GISP_CANCELLED},
    {absl::StatusCode::kInternal, GISP_INTERNAL},
    {absl::StatusCode::kDataLoss, GISP_DATA_LOSS},
    {absl::StatusCode::kAlreadyExists, GISP_FAILED_PRECONDITION},
};

}  // namespace

gisp_status* ToC(const absl::Status& status) {
  if (status.ok()) return nullptr;
  gisp_code code = GISP_UNKNOWN;
  for (const CodePair& p : kCodes) {
    if (p.absl_code == status.code()) {
      code = p.c_code;
      break;
    }
  }
  return Error(code, std::string(status.message()));
}

absl::Status ToAbsl(gisp_code code, const std::string& message) {
  if (code == GISP_OK) return absl::OkStatus();
  absl::StatusCode out = absl::StatusCode::kUnknown;
  for (const CodePair& p : kCodes) {
    if (p.c_code == code) {
      out = p.absl_code;
      break;
    }
  }
  return absl::Status(out, message);
}

char* CopyString(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

}  // namespace capi
}  // namespace gisp

extern "C" {

gisp_code gisp_status_code(const gisp_status* status) {
  return status == nullptr ? GISP_OK : status->code;
}

const char* gisp_status_message(const gisp_status* status) {
  return status == nullptr ? "" : status->message.c_str();
}

void gisp_status_free(gisp_status* status) {
  if (status != nullptr && status->on_heap) delete status;
}

const char* gisp_code_name(gisp_code code) {
  switch (code) {
    case GISP_OK:
      return "ok";
    case GISP_INVALID_ARGUMENT:
      return "invalid_argument";
    case GISP_NOT_FOUND:
      return "not_found";
    case GISP_FAILED_PRECONDITION:
      return "failed_precondition";
    case GISP_OUT_OF_RANGE:
      return "out_of_range";
    case GISP_UNIMPLEMENTED:
      return "unimplemented";
    case GISP_UNAVAILABLE:
      return "unavailable";
    case GISP_RESOURCE_EXHAUSTED:
      return "resource_exhausted";
    case GISP_PERMISSION_DENIED:
      return "permission_denied";
    case GISP_CANCELLED:
      return "cancelled";
    case GISP_INTERNAL:
      return "internal";
    case GISP_DATA_LOSS:
      return "data_loss";
    case GISP_UNKNOWN:
      return "unknown";
  }
  return "unknown";
}

void gisp_string_free(char* s) { std::free(s); }

void gisp_buffer_free(uint8_t* data) { std::free(data); }

const char* gisp_version_string(void) { return gisp::GispVersion(); }

uint32_t gisp_abi_version(void) { return GISP_ABI_VERSION; }

void gisp_set_log_callback(gisp_log_fn fn, gisp_log_level min_level, void* user_data) {
  try {
    if (fn == nullptr) {
      gisp::SetLogSink(nullptr);
      return;
    }
    gisp::SetLogSink([fn, min_level, user_data](gisp::LogLevel level, absl::string_view msg) {
      if (static_cast<int>(level) < static_cast<int>(min_level)) return;
      const std::string text(msg);
      fn(static_cast<gisp_log_level>(level), text.c_str(), user_data);
    });
  } catch (...) {
    // Installing a sink can only fail on allocation; keep the previous sink then.
  }
}

}  // extern "C"
