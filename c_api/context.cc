// Cancel tokens, contexts and load options: what a host grants the calls it makes.
#include <string>

#include "absl/strings/str_cat.h"
#include "c_api/internal.h"
#include "gisp/base/call_context.h"

namespace gisp {
namespace capi {

CallContext MakeCallContext(const ContextSettings& settings,
                            std::function<bool(absl::string_view, int64_t, int64_t)> progress) {
  CallContext call;
  call.cancel = settings.cancel;
  call.progress = std::move(progress);
  call.num_threads = settings.num_threads;
  call.memory_budget = settings.memory_budget;
  if (settings.log_fn != nullptr) {
    const gisp_log_fn fn = settings.log_fn;
    void* const user_data = settings.log_user_data;
    call.min_level = static_cast<LogLevel>(settings.log_level);
    call.sink = [fn, user_data](LogLevel level, absl::string_view message) {
      const std::string text(message);
      fn(static_cast<gisp_log_level>(level), text.c_str(), user_data);
    };
  }
  return call;
}

}  // namespace capi
}  // namespace gisp

using gisp::capi::EnumBits;
using gisp::capi::Guard;

extern "C" {

gisp_status* gisp_cancel_token_create(gisp_cancel_token** out) {
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    *out = new gisp_cancel_token{std::make_shared<gisp::CancelFlag>()};
    return absl::OkStatus();
  });
}

void gisp_cancel_token_free(gisp_cancel_token* token) { delete token; }

void gisp_cancel_token_cancel(gisp_cancel_token* token) {
  // One relaxed atomic store: safe from any thread and from a signal handler.
  if (token != nullptr) token->flag->raised.store(true, std::memory_order_relaxed);
}

void gisp_cancel_token_reset(gisp_cancel_token* token) {
  if (token != nullptr) token->flag->raised.store(false, std::memory_order_relaxed);
}

bool gisp_cancel_token_is_cancelled(const gisp_cancel_token* token) {
  return token != nullptr && token->flag->raised.load(std::memory_order_relaxed);
}

gisp_status* gisp_context_create(gisp_context** out) {
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    *out = new gisp_context();
    return absl::OkStatus();
  });
}

void gisp_context_free(gisp_context* ctx) { delete ctx; }

gisp_status* gisp_context_set_num_threads(gisp_context* ctx, int32_t n) {
  GISP_C_REQUIRE(ctx);
  return Guard(__func__, [&]() -> absl::Status {
    // More threads than this bound is a mistake, not a request (and would make OpenMP allocate
    // per-thread state for each).
    constexpr int32_t kMaxThreads = 4096;
    if (n < 0 || n > kMaxThreads) {
      return absl::InvalidArgumentError(
          absl::StrCat("gisp_context_set_num_threads: n must be in [0, ", kMaxThreads,
                       "] (0: default), got ", n));
    }
    ctx->settings.num_threads = n;
    return absl::OkStatus();
  });
}

gisp_status* gisp_context_set_memory_budget(gisp_context* ctx, int64_t bytes) {
  GISP_C_REQUIRE(ctx);
  return Guard(__func__, [&]() -> absl::Status {
    if (bytes < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gisp_context_set_memory_budget: bytes must be >= 0 (0: automatic), got ", bytes));
    }
    ctx->settings.memory_budget = bytes;
    return absl::OkStatus();
  });
}

gisp_status* gisp_context_set_log_callback(gisp_context* ctx, gisp_log_fn fn,
                                           gisp_log_level min_level, void* user_data) {
  GISP_C_REQUIRE(ctx);
  return Guard(__func__, [&]() -> absl::Status {
    const int level = EnumBits(min_level);
    if (level < GISP_LOG_DEBUG || level > GISP_LOG_ERROR) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gisp_context_set_log_callback: min_level must be 0..3 (debug..error), got ", level));
    }
    ctx->settings.log_fn = fn;
    ctx->settings.log_level = static_cast<gisp_log_level>(level);
    ctx->settings.log_user_data = user_data;
    return absl::OkStatus();
  });
}

gisp_status* gisp_context_set_cancel_token(gisp_context* ctx, gisp_cancel_token* token) {
  GISP_C_REQUIRE(ctx);
  return Guard(__func__, [&]() -> absl::Status {
    ctx->settings.cancel = token == nullptr ? nullptr : token->flag;
    return absl::OkStatus();
  });
}

int32_t gisp_context_num_threads(const gisp_context* ctx) {
  if (ctx != nullptr && ctx->settings.num_threads > 0) return ctx->settings.num_threads;
  return gisp::CurrentThreadCount();
}

gisp_status* gisp_load_options_create(gisp_load_options** out) {
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    *out = new gisp_load_options();
    return absl::OkStatus();
  });
}

void gisp_load_options_free(gisp_load_options* options) { delete options; }

gisp_status* gisp_load_options_set_device(gisp_load_options* options, gisp_device device,
                                          int device_index) {
  GISP_C_REQUIRE(options);
  return Guard(__func__, [&]() -> absl::Status {
    const int d = EnumBits(device);
    if (d != GISP_DEVICE_CPU && d != GISP_DEVICE_CUDA) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gisp_load_options_set_device: device must be 0 (cpu) or 1 (cuda), got ", d));
    }
    if (device_index < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gisp_load_options_set_device: device_index must be >= 0, got ", device_index));
    }
    options->device = static_cast<gisp_device>(d);
    options->device_index = device_index;
    return absl::OkStatus();
  });
}

gisp_status* gisp_load_options_set_working_dtype(gisp_load_options* options, gisp_dtype dtype) {
  GISP_C_REQUIRE(options);
  return Guard(__func__, [&]() -> absl::Status {
    const int d = EnumBits(dtype);
    if (d != GISP_DTYPE_F32 && d != GISP_DTYPE_BF16 && d != GISP_DTYPE_F16 &&
        d != GISP_DTYPE_AUTO) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gisp_load_options_set_working_dtype: dtype must be f32 0, bf16 1, f16 2 or auto 100, "
          "got ",
          d));
    }
    options->working_dtype = static_cast<gisp_dtype>(d);
    return absl::OkStatus();
  });
}

gisp_status* gisp_load_options_set_stream_layers(gisp_load_options* options, bool enabled) {
  GISP_C_REQUIRE(options);
  return Guard(__func__, [&]() -> absl::Status {
    options->stream_layers = enabled;
    return absl::OkStatus();
  });
}

gisp_status* gisp_load_options_set_context(gisp_load_options* options, const gisp_context* ctx) {
  GISP_C_REQUIRE(options);
  return Guard(__func__, [&]() -> absl::Status {
    options->context = ctx == nullptr ? gisp::capi::ContextSettings() : ctx->settings;
    return absl::OkStatus();
  });
}

gisp_status* gisp_load_options_set_progress_callback(gisp_load_options* options,
                                                     gisp_load_progress_fn fn, void* user_data) {
  GISP_C_REQUIRE(options);
  return Guard(__func__, [&]() -> absl::Status {
    options->progress_fn = fn;
    options->progress_user_data = user_data;
    return absl::OkStatus();
  });
}

}  // extern "C"
