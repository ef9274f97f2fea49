// Communicators: the host's collective functions, handed to pruners through contexts.
#include "absl/strings/str_cat.h"
#include "c_api/internal.h"
#include "gisp/base/status.h"
#include "gisp/comm/agreement.h"

using gisp::capi::Guard;

namespace {

absl::StatusOr<std::shared_ptr<gisp::CallbackCommunicator>> Build(const gisp_communicator& c) {
  return gisp::CallbackCommunicator::Create(c.rank, c.size, c.callbacks);
}

}  // namespace

extern "C" {

gisp_status* gisp_communicator_create(int32_t rank, int32_t size, void* user_data,
                                      gisp_communicator** out) {
  GISP_C_REQUIRE(out);
  return Guard(__func__, [&]() -> absl::Status {
    if (size < 1 || rank < 0 || rank >= size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "gisp_communicator_create: need 0 <= rank < size, got rank ", rank, " of size ", size));
    }
    auto c = std::make_unique<gisp_communicator>();
    c->rank = rank;
    c->size = size;
    c->callbacks.user_data = user_data;
    *out = c.release();
    return absl::OkStatus();
  });
}

void gisp_communicator_free(gisp_communicator* comm) { delete comm; }

gisp_status* gisp_communicator_set_all_reduce_f32(gisp_communicator* comm,
                                                  gisp_all_reduce_f32_fn fn) {
  GISP_C_REQUIRE(comm);
  comm->callbacks.all_reduce_f32 = fn;
  return nullptr;
}

gisp_status* gisp_communicator_set_all_reduce_f64(gisp_communicator* comm,
                                                  gisp_all_reduce_f64_fn fn) {
  GISP_C_REQUIRE(comm);
  comm->callbacks.all_reduce_f64 = fn;
  return nullptr;
}

gisp_status* gisp_communicator_set_broadcast(gisp_communicator* comm, gisp_broadcast_fn fn) {
  GISP_C_REQUIRE(comm);
  comm->callbacks.broadcast = fn;
  return nullptr;
}

gisp_status* gisp_communicator_agree(gisp_communicator* comm, gisp_code local_code,
                                     const char* local_message) {
  GISP_C_REQUIRE(comm);
  return Guard(__func__, [&]() -> absl::Status {
    GISP_ASSIGN_OR_RETURN(auto c, Build(*comm));
    const int code = gisp::capi::EnumBits(local_code);
    // An out-of-range code still counts as a failure (GISP_UNKNOWN), never as success.
    const gisp_code known =
        code >= GISP_OK && code <= GISP_UNKNOWN ? static_cast<gisp_code>(code) : GISP_UNKNOWN;
    return gisp::Agree(*c,
                       gisp::capi::ToAbsl(known, local_message == nullptr ? "" : local_message));
  });
}

gisp_status* gisp_context_set_communicator(gisp_context* ctx, const gisp_communicator* comm) {
  GISP_C_REQUIRE(ctx);
  return Guard(__func__, [&]() -> absl::Status {
    if (comm == nullptr || comm->size == 1) {
      ctx->settings.comm = nullptr;
      return absl::OkStatus();
    }
    auto c = Build(*comm);
    if (!c.ok()) return gisp::Annotate(c.status(), "gisp_context_set_communicator");
    ctx->settings.comm = *std::move(c);
    return absl::OkStatus();
  });
}

}  // extern "C"
