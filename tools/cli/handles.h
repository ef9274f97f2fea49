// RAII owners for gisp C API handles and a Status-like wrapper for gisp_status*, so the CLI can
// use the C API with early returns and no leaks.
#ifndef GISP_TOOLS_CLI_HANDLES_H_
#define GISP_TOOLS_CLI_HANDLES_H_

#include <memory>
#include <string>

#include "c_api/gisp.h"

namespace gisp_cli {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

using Model = std::unique_ptr<gisp_model, Deleter<gisp_model, gisp_model_free>>;
using Calibration =
    std::unique_ptr<gisp_calibration, Deleter<gisp_calibration, gisp_calibration_free>>;
using PruneConfig =
    std::unique_ptr<gisp_prune_config, Deleter<gisp_prune_config, gisp_prune_config_free>>;
using Record = std::unique_ptr<gisp_record, Deleter<gisp_record, gisp_record_free>>;
using Pruner = std::unique_ptr<gisp_pruner, Deleter<gisp_pruner, gisp_pruner_free>>;
using Context = std::unique_ptr<gisp_context, Deleter<gisp_context, gisp_context_free>>;
using LoadOptions =
    std::unique_ptr<gisp_load_options, Deleter<gisp_load_options, gisp_load_options_free>>;

// Owns a gisp_status*; ok() when it is NULL.
class Status {
 public:
  Status() = default;
  Status(gisp_status* s) : s_(s) {}  // NOLINT: implicit from C results, on purpose
  Status(gisp_code code, const std::string& message) : code_(code), message_(message) {}
  ~Status() { gisp_status_free(s_); }
  Status(Status&& o) noexcept : s_(o.s_), code_(o.code_), message_(std::move(o.message_)) {
    o.s_ = nullptr;
  }
  Status& operator=(Status&& o) noexcept {
    std::swap(s_, o.s_);
    code_ = o.code_;
    message_ = std::move(o.message_);
    return *this;
  }
  Status(const Status&) = delete;
  Status& operator=(const Status&) = delete;

  bool ok() const { return s_ == nullptr && code_ == GISP_OK; }
  gisp_code code() const { return s_ != nullptr ? gisp_status_code(s_) : code_; }
  std::string message() const { return s_ != nullptr ? gisp_status_message(s_) : message_; }

 private:
  gisp_status* s_ = nullptr;
  gisp_code code_ = GISP_OK;
  std::string message_;
};

// A gisp-allocated string, freed on scope exit.
struct OwnedString {
  char* p = nullptr;
  ~OwnedString() { gisp_string_free(p); }
  std::string str() const { return p != nullptr ? std::string(p) : std::string(); }
};

}  // namespace gisp_cli

#define CLI_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::gisp_cli::Status cli_status_ = (expr);   \
    if (!cli_status_.ok()) return cli_status_; \
  } while (0)

#endif  // GISP_TOOLS_CLI_HANDLES_H_
