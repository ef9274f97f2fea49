// Status plumbing for the core. gisp uses absl::Status / absl::StatusOr throughout; these macros
// keep the early-return style short. Messages name the file, field or value that is wrong, so a
// user can act on them without reading code.
#ifndef GISP_BASE_STATUS_H_
#define GISP_BASE_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define GISP_CONCAT_INNER_(a, b) a##b
#define GISP_CONCAT_(a, b) GISP_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define GISP_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status gisp_status_ = (expr);        \
    if (!gisp_status_.ok()) return gisp_status_; \
  } while (0)

// `lhs = value of statusor_expr`, or returns its error from the enclosing function.
#define GISP_ASSIGN_OR_RETURN(lhs, expr) \
  GISP_ASSIGN_OR_RETURN_IMPL_(GISP_CONCAT_(gisp_statusor_, __LINE__), lhs, expr)

#define GISP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

// Returns an InvalidArgument error built from the arguments (absl::StrCat) unless `cond` holds.
#define GISP_CHECK_ARG(cond, ...)                                                  \
  do {                                                                             \
    if (!(cond)) return ::absl::InvalidArgumentError(::absl::StrCat(__VA_ARGS__)); \
  } while (0)

// Internal invariant: returns an Internal error naming the failed condition. Used where a failure
// means a gisp bug, never for user input; it still returns instead of aborting.
#define GISP_CHECK_INTERNAL(cond)                                                             \
  do {                                                                                        \
    if (!(cond))                                                                              \
      return ::absl::InternalError(                                                           \
          ::absl::StrCat("internal check failed: ", #cond, " at ", __FILE__, ":", __LINE__)); \
  } while (0)

namespace gisp {

// Prefixes `status`'s message with `context` ("reading model.safetensors: ...").
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace gisp

#endif  // GISP_BASE_STATUS_H_
