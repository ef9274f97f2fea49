// Definitions of the opaque C handles and the exception-safe wrappers shared by the C API's
// implementation files. Not installed; nothing outside c_api/ includes it.
#ifndef GISP_C_API_INTERNAL_H_
#define GISP_C_API_INTERNAL_H_

#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "c_api/gisp.h"
#include "gisp/backend/backend.h"
#include "gisp/base/call_context.h"
#include "gisp/comm/callback_communicator.h"
#include "gisp/data/sequences.h"
#include "gisp/io/checkpoint.h"
#include "gisp/io/tokenizer/tokenizer.h"
#include "gisp/model/llama_model.h"
#include "gisp/proto/gisp.pb.h"
#include "gisp/prune/pruner.h"

namespace gisp {
namespace capi {

// What a gisp_context grants, as copied into the models that run under it.
struct ContextSettings {
  int32_t num_threads = 0;    // 0: OpenMP's default
  int64_t memory_budget = 0;  // 0: automatic
  gisp_log_fn log_fn = nullptr;
  gisp_log_level log_level = GISP_LOG_INFO;
  void* log_user_data = nullptr;
  std::shared_ptr<CancelFlag> cancel;  // shared with the gisp_cancel_token
  std::shared_ptr<Communicator> comm;  // null: this process alone
};

// The core's view of `settings` for one call; `progress` (may be empty) receives check points.
CallContext MakeCallContext(
    const ContextSettings& settings,
    std::function<bool(absl::string_view, int64_t, int64_t)> progress = nullptr);

}  // namespace capi
}  // namespace gisp

struct gisp_cancel_token {
  std::shared_ptr<gisp::CancelFlag> flag;
};

struct gisp_communicator {
  int32_t rank = 0;
  int32_t size = 1;
  gisp::CommunicatorCallbacks callbacks;
};

struct gisp_context {
  gisp::capi::ContextSettings settings;
};

struct gisp_load_options {
  gisp_device device = GISP_DEVICE_CPU;
  int device_index = 0;
  gisp_dtype working_dtype = GISP_DTYPE_AUTO;
  bool stream_layers = false;
  gisp::capi::ContextSettings context;
  gisp_load_progress_fn progress_fn = nullptr;
  void* progress_user_data = nullptr;
};

struct gisp_status {
  gisp_code code;
  std::string message;
  bool on_heap = true;  // false only for the static status used when allocation itself fails
};

struct gisp_model {
  std::string dir;
  gisp_device device = GISP_DEVICE_CPU;
  int device_index = 0;
  // Host weights: views of the memory-mapped checkpoint for a loaded model, owned tensors for a
  // materialized one. They never change, so any target can be materialized after pruning.
  gisp::LlamaConfig host_config;
  gisp::LlamaWeights host_weights;
  std::shared_ptr<void> keep_alive;  // the mapped archive
  bool original = true;              // loaded from disk (dense) rather than materialized
  gisp_dtype working_dtype = GISP_DTYPE_AUTO;
  bool stream_layers = false;           // decoder layers stay on the host (layer streaming)
  gisp::capi::ContextSettings context;  // every call on the model runs under it
  std::unique_ptr<gisp::Backend> backend;
  std::unique_ptr<gisp::LlamaModel> model;  // the working copy on the device
  bool pruned_in_place = false;             // a pruner changed the working copy
  // Tokenizer, loaded on first use (under the mutex: tokenizing only reads the model).
  std::mutex tokenizer_mu;
  bool tokenizer_tried = false;
  absl::Status tokenizer_status;
  std::unique_ptr<gisp::Tokenizer> tokenizer;
  std::string tokenizer_dir;  // where to look for tokenizer files
};

struct gisp_calibration {
  std::vector<gisp::LabelledSequence> sequences;
  gisp::CalibrationSource source = gisp::CalibrationSource::kTokens;
  int64_t window_tokens = 0;
  uint64_t seed = 0;
  int32_t pad_id = 0;
};

struct gisp_prune_config {
  gisp::PruneConfig config;
  bool compact = true;
};

struct gisp_record {
  gisp::proto::Record record;
};

struct gisp_progress {
  gisp::PruneProgress progress;
};

struct gisp_pruner {
  gisp_model* model = nullptr;
  gisp::CalibrationBatches batches;
  std::unique_ptr<gisp::Pruner> pruner;
  gisp_progress_fn progress_fn = nullptr;
  void* progress_user_data = nullptr;
  std::string checkpoint_path;
};

namespace gisp {
namespace capi {

// The integer a C caller passed for an enum parameter. C lets any int through, but in C++ an enum
// without a fixed underlying type may only hold its enumerators' range: loading one outside it
// is undefined (UBSan's invalid enum load). Reading the bits with memcpy is defined.
template <typename E>
int EnumBits(const E& e) {
  static_assert(std::is_enum_v<E> && sizeof(E) == sizeof(int), "a C enum parameter");
  int raw;
  std::memcpy(&raw, &e, sizeof(raw));
  return raw;
}

// NULL for OK, otherwise a new gisp_status carrying the code and message.
gisp_status* ToC(const absl::Status& status);
// The inverse, from a code and message (OK for GISP_OK).
absl::Status ToAbsl(gisp_code code, const std::string& message);
gisp_status* Error(gisp_code code, const std::string& message);
gisp_status* NullArgument(const char* function, const char* argument);

// Runs `fn` (returning absl::Status) and converts the result, catching every exception so none
// crosses the C boundary.
template <typename Fn>
gisp_status* Guard(const char* function, Fn&& fn) {
  try {
    return ToC(fn());
  } catch (const std::bad_alloc&) {
    return Error(GISP_RESOURCE_EXHAUSTED, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return Error(GISP_INTERNAL, std::string(function) + ": " + e.what());
  } catch (...) {
    return Error(GISP_INTERNAL, std::string(function) + ": unknown exception");
  }
}

// Guard, with the call running under `settings` (threads, memory budget, log sink, cancel
// token): every long call on a model goes through this.
template <typename Fn>
gisp_status* GuardIn(const ContextSettings& settings, const char* function, Fn&& fn) {
  return Guard(function, [&]() -> absl::Status {
    const CallContext call = MakeCallContext(settings);
    ScopedCallContext scope(&call);
    return fn();
  });
}

// FailedPrecondition when a pruner changed `model`'s working copy: exports take a materialized
// step instead.
absl::Status CheckExportable(const gisp_model* model);

// The model's tokenizer (loading it on first use); an error names the directory.
absl::StatusOr<const Tokenizer*> GetTokenizer(gisp_model* model);

// The storage dtype an export writes for `dtype` (AUTO: the checkpoint's).
absl::StatusOr<DType> StorageDType(const gisp_model* model, gisp_dtype dtype);

// Heap copy of a std::string for the caller (gisp_string_free).
char* CopyString(const std::string& s);

}  // namespace capi
}  // namespace gisp

#define GISP_C_REQUIRE(arg)                                                  \
  do {                                                                       \
    if ((arg) == nullptr) return ::gisp::capi::NullArgument(__func__, #arg); \
  } while (0)

#endif  // GISP_C_API_INTERNAL_H_
