/*
 * gisp.h: the C ABI of gisp, a native library that prunes Llama-family language models with
 * Global Iterative Structured Pruning (GISP). This is the only public header; the Rust, Go and
 * Python bindings and the `prune` CLI are built on it alone (the CLI also reads and writes
 * gisp.proto's messages, the file formats of docs/formats.md).
 *
 * Conventions (see docs/c_api.md for a tutorial and docs/abi_policy.md for evolution rules):
 *  - Every fallible call returns a `gisp_status*`: NULL means success; otherwise the caller owns
 *    the status and frees it with gisp_status_free(). Out-parameters are left untouched on error.
 *  - Objects are opaque handles created by `*_create` / `*_load` and destroyed by `*_free`;
 *    every `*_free` accepts NULL.
 *  - Nothing aborts, exits or throws across this boundary: internal failures come back as
 *    GISP_INTERNAL.
 *  - Strings are UTF-8 and NUL-terminated. Strings and buffers returned by gisp are freed with
 *    gisp_string_free() / gisp_buffer_free().
 *  - Thread safety: a handle may be used from any thread, but by one thread at a time, unless a
 *    function says otherwise. A call on a handle also uses the handles it was given or built
 *    from (a pruner its model and calibration data; calibration building and evaluation their
 *    model), so those count as in use too. Handles that share nothing may be used concurrently:
 *    separate models, each with its own calibration data and pruner, may run on separate threads,
 *    and a gisp_record or gisp_context may be read by several threads at once. Cancel tokens and
 *    gisp_status objects may be used from any thread at any time. There is no thread-local
 *    "last error". c_api/thread_safety_test.c checks this contract (also under TSan).
 *  - Enums and status codes are append-only; values never change meaning.
 */
#ifndef GISP_C_API_GISP_H_
#define GISP_C_API_GISP_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GISP_VERSION_MAJOR 0
#define GISP_VERSION_MINOR 1
#define GISP_VERSION_PATCH 0
/* Bumped only when a change breaks binary compatibility; bindings check it at load time. */
#define GISP_ABI_VERSION 1

#if defined(__GNUC__) || defined(__clang__)
#define GISP_API __attribute__((visibility("default")))
/* On every function that returns a gisp_status*: ignoring one leaks it and loses the error.
 * Define GISP_ALLOW_UNUSED_STATUS before including this header to turn the warning off. */
#ifndef GISP_ALLOW_UNUSED_STATUS
#define GISP_NODISCARD __attribute__((warn_unused_result))
#else
#define GISP_NODISCARD
#endif
#else
#define GISP_API
#define GISP_NODISCARD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Status
 * ------------------------------------------------------------------------------------------- */

typedef struct gisp_status gisp_status;

/* Append-only. */
typedef enum gisp_code {
  GISP_OK = 0,
  GISP_INVALID_ARGUMENT = 1,    /* a bad value, file content or option; the message names it */
  GISP_NOT_FOUND = 2,           /* a missing file or tensor */
  GISP_FAILED_PRECONDITION = 3, /* e.g. a record from another model or calibration set */
  GISP_OUT_OF_RANGE = 4,        /* e.g. a target sparsity the run did not reach */
  GISP_UNIMPLEMENTED = 5,       /* an unsupported architecture, dtype or option value */
  GISP_UNAVAILABLE = 6,         /* e.g. CUDA requested but not built in or no GPU */
  GISP_RESOURCE_EXHAUSTED = 7,  /* out of memory */
  GISP_PERMISSION_DENIED = 8,   /* a file or directory cannot be written */
  GISP_CANCELLED = 9,           /* a cancel token was raised or a callback returned false */
  GISP_INTERNAL = 10,           /* a gisp bug; please report it with the message */
  GISP_DATA_LOSS = 11,
  GISP_UNKNOWN = 12
} gisp_code;

/* The code of `status` (GISP_OK for NULL). Thread-safe. */
GISP_API gisp_code gisp_status_code(const gisp_status* status);
/* The message of `status` ("" for NULL). Owned by the status; valid until it is freed. */
GISP_API const char* gisp_status_message(const gisp_status* status);
/* Frees `status`. Accepts NULL. */
GISP_API void gisp_status_free(gisp_status* status);
/* A stable lower-case name of `code`, e.g. "invalid_argument". Static storage. */
GISP_API const char* gisp_code_name(gisp_code code);

/* Frees a string returned by gisp. Accepts NULL. */
GISP_API void gisp_string_free(char* s);
/* Frees a byte buffer returned by gisp. Accepts NULL. */
GISP_API void gisp_buffer_free(uint8_t* data);

/* ---------------------------------------------------------------------------------------------
 * Version and logging
 * ------------------------------------------------------------------------------------------- */

/* "0.1.0". Static storage. Thread-safe. */
GISP_API const char* gisp_version_string(void);
/* GISP_ABI_VERSION of the library actually loaded (compare with the header's). Thread-safe. */
GISP_API uint32_t gisp_abi_version(void);

typedef enum gisp_log_level {
  GISP_LOG_DEBUG = 0,
  GISP_LOG_INFO = 1,
  GISP_LOG_WARNING = 2,
  GISP_LOG_ERROR = 3
} gisp_log_level;

/* Receives gisp's log messages. `message` is valid only during the call. May be called from
 * any thread that is inside a gisp call. */
typedef void (*gisp_log_fn)(gisp_log_level level, const char* message, void* user_data);

/* Installs the process-wide log callback (NULL: discard, the default). Messages below
 * `min_level` are dropped. Thread-safe; `user_data` must stay valid until replaced. */
GISP_API void gisp_set_log_callback(gisp_log_fn fn, gisp_log_level min_level, void* user_data);

/* ---------------------------------------------------------------------------------------------
 * Cancellation and contexts (for services: see docs/c_api.md, "Embedding gisp in a service")
 * ------------------------------------------------------------------------------------------- */

/* A flag any thread may raise to stop the gisp calls that watch it. Long calls (loading,
 * building calibration data, pruner steps and runs, evaluation, materializing, exporting) check
 * it at least once per calibration batch, evaluation chunk, layer or written tensor, and then
 * return GISP_CANCELLED with every output either complete or absent: a pruner's record keeps its
 * completed steps, an export leaves no directory, a load returns no model. */
typedef struct gisp_cancel_token gisp_cancel_token;

GISP_API GISP_NODISCARD gisp_status* gisp_cancel_token_create(gisp_cancel_token** out);
/* Frees the caller's reference. Contexts and models that hold the token keep it alive, so this
 * is safe at any time. Accepts NULL. */
GISP_API void gisp_cancel_token_free(gisp_cancel_token* token);
/* Raises the flag. Thread-safe, lock-free and async-signal-safe; may be called repeatedly. */
GISP_API void gisp_cancel_token_cancel(gisp_cancel_token* token);
/* Lowers the flag, so the token can serve the next job. Thread-safe. */
GISP_API void gisp_cancel_token_reset(gisp_cancel_token* token);
GISP_API bool gisp_cancel_token_is_cancelled(const gisp_cancel_token* token);

/* The resources a host grants gisp: threads, memory, a log sink and a cancel token. A model
 * takes a copy of a context's settings when it is loaded (gisp_load_options_set_context) or
 * given one (gisp_model_set_context); every call on that model, on calibration data built from
 * it and on its pruner then runs under them. Without a context, calls use the process defaults:
 * OpenMP's thread count, automatic memory sizing, the process-wide log callback, no token. */
typedef struct gisp_context gisp_context;

GISP_API GISP_NODISCARD gisp_status* gisp_context_create(gisp_context** out);
/* Accepts NULL. Models keep their own copy, so a context may be freed after use. */
GISP_API void gisp_context_free(gisp_context* ctx);
/* Threads gisp's calls may use (OpenMP and oneDNN), n >= 1; 0 restores the default (the
 * process's OpenMP setting, normally one per core). Results are deterministic for a given thread
 * count on one machine; a different count may change the last bits (docs/numerics.md). */
GISP_API GISP_NODISCARD gisp_status* gisp_context_set_num_threads(gisp_context* ctx, int32_t n);
/* Bytes gisp may use for activations and working buffers beyond the weights and gradient
 * buffers, bytes >= 0; 0 restores automatic sizing (half the memory free when a pass starts).
 * A pass that cannot fit even with per-layer recomputation is refused with
 * GISP_RESOURCE_EXHAUSTED naming the estimate and the budget. Results do not depend on it. */
GISP_API GISP_NODISCARD gisp_status* gisp_context_set_memory_budget(gisp_context* ctx,
                                                                    int64_t bytes);
/* Sends the log messages of calls under this context to `fn` (NULL: the process-wide callback of
 * gisp_set_log_callback). Messages below `min_level` are dropped. `fn` is called on the thread
 * making the gisp call; `user_data` must stay valid while a model uses this context. */
GISP_API GISP_NODISCARD gisp_status* gisp_context_set_log_callback(gisp_context* ctx,
                                                                   gisp_log_fn fn,
                                                                   gisp_log_level min_level,
                                                                   void* user_data);
/* Calls under this context stop when `token` is raised (NULL: none). The context holds a
 * reference, so the token outlives the caller's gisp_cancel_token_free. */
GISP_API GISP_NODISCARD gisp_status* gisp_context_set_cancel_token(gisp_context* ctx,
                                                                   gisp_cancel_token* token);
/* The thread count calls under `ctx` use (its setting, or the default when it is 0); for NULL,
 * the default. Thread-safe. */
GISP_API int32_t gisp_context_num_threads(const gisp_context* ctx);

/* ---------------------------------------------------------------------------------------------
 * Communicators: data-parallel pruning over MPI and the like (see docs/scaling.md)
 * ------------------------------------------------------------------------------------------- */

/* The ranks of a job that prune one model together. Every rank loads the same model and
 * calibration data and runs the same calls; each step, rank r runs the calibration pass on its
 * contiguous share of the batches and the ranks add up their gradient sums, so every rank
 * computes the same scores, threshold and pruned set. gisp moves its data through three host
 * functions; c_api/gisp_mpi.h supplies them for an MPI communicator (header-only, compiled by the
 * host that links MPI, so libgisp.so itself never needs MPI).
 *
 * Under a context with a communicator of size > 1 (gisp_context_set_communicator),
 * gisp_pruner_create, gisp_pruner_step and gisp_pruner_run are collective: every rank calls them
 * in the same order. When one rank fails (a bad file, a cancel, a disk that fills), every rank
 * returns an error with that rank's code and the message "rank R of N: <its message>"; ranks
 * whose models, calibration sets, configurations or resume records differ are refused alike.
 * Only rank 0 writes the checkpoint (gisp_pruner_set_checkpoint_path). Other calls
 * (loading, calibration, evaluation, exports) stay local to each rank. */
typedef struct gisp_communicator gisp_communicator;

/* Host functions. Each is collective (called on every rank with the same count), returns 0 on
 * success, and any other value fails the gisp call with GISP_UNAVAILABLE naming the operation
 * and the value (e.g. an MPI error code). Called on the thread making the gisp call.
 * all_reduce: replace data[0..count) on every rank by the element-wise sum over all ranks; every
 *   rank must receive the same bits (MPI_Allreduce with MPI_SUM does).
 * broadcast: copy `bytes` bytes of `data` from rank `root` into every other rank's `data`.
 * `count` and `bytes` may exceed INT_MAX: split them where the transport needs it. */
typedef int (*gisp_all_reduce_f32_fn)(float* data, size_t count, void* user_data);
typedef int (*gisp_all_reduce_f64_fn)(double* data, size_t count, void* user_data);
typedef int (*gisp_broadcast_fn)(void* data, size_t bytes, int32_t root, void* user_data);

/* A communicator for rank `rank` of `size` (0 <= rank < size), whose functions receive
 * `user_data`; it must stay valid while a model uses a context holding this communicator. A
 * communicator of size 1 needs no functions (and behaves as no communicator). The caller owns
 * `*out` (gisp_communicator_free). */
GISP_API GISP_NODISCARD gisp_status* gisp_communicator_create(int32_t rank, int32_t size,
                                                              void* user_data,
                                                              gisp_communicator** out);
/* Accepts NULL. Contexts keep their own copy, so a communicator may be freed after use. */
GISP_API void gisp_communicator_free(gisp_communicator* comm);
GISP_API GISP_NODISCARD gisp_status* gisp_communicator_set_all_reduce_f32(
    gisp_communicator* comm, gisp_all_reduce_f32_fn fn);
GISP_API GISP_NODISCARD gisp_status* gisp_communicator_set_all_reduce_f64(
    gisp_communicator* comm, gisp_all_reduce_f64_fn fn);
GISP_API GISP_NODISCARD gisp_status* gisp_communicator_set_broadcast(gisp_communicator* comm,
                                                                     gisp_broadcast_fn fn);
/* Collective: every rank passes the outcome of its own work since the last collective call
 * (`local_code` GISP_OK for success, else its code and `local_message`, which may be NULL) and
 * gets the same answer: NULL when every rank succeeded, otherwise a new status with the code of
 * the lowest failed rank and the message "rank R of N: <its message>". Hosts call it after their
 * own per-rank setup (loading the model, reading files), so a rank that failed there does not
 * leave the others waiting in gisp_pruner_create. With size 1: NULL for GISP_OK, else a status
 * with that code and message. */
GISP_API GISP_NODISCARD gisp_status* gisp_communicator_agree(gisp_communicator* comm,
                                                             gisp_code local_code,
                                                             const char* local_message);
/* Pruners of models under this context share their work with the other ranks of `comm` (a copy
 * of its settings is taken; NULL: none, the default). InvalidArgument when `comm` has size > 1
 * but lacks one of its three functions. The context's other settings apply per rank: give each
 * rank the threads of its own share of the machine. */
GISP_API GISP_NODISCARD gisp_status* gisp_context_set_communicator(gisp_context* ctx,
                                                                   const gisp_communicator* comm);

/* ---------------------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------------------- */

typedef struct gisp_model gisp_model;

typedef enum gisp_device { GISP_DEVICE_CPU = 0, GISP_DEVICE_CUDA = 1 } gisp_device;

typedef enum gisp_dtype {
  GISP_DTYPE_F32 = 0,
  GISP_DTYPE_BF16 = 1,
  GISP_DTYPE_F16 = 2,
  GISP_DTYPE_AUTO = 100 /* export: the checkpoint's own dtype */
} gisp_dtype;

/* Loads an HF model directory (config.json, model.safetensors or shards + index, and
 * tokenizer.model or tokenizer.json if present). Weights are memory-mapped; a working copy is
 * placed on `device` (index `device_index` for CUDA). Errors name the file and field.
 * The caller owns `*out` (gisp_model_free). */
GISP_API GISP_NODISCARD gisp_status* gisp_model_load(const char* model_dir, gisp_device device,
                                                     int device_index, gisp_model** out);
/* Frees the model. Accepts NULL. Must not be called while a pruner uses it. */
GISP_API void gisp_model_free(gisp_model* model);

/* Options for gisp_model_load_with_options. Defaults: CPU, device index 0, working dtype AUTO,
 * resident layers (no streaming), no context, no progress callback. */
typedef struct gisp_load_options gisp_load_options;

GISP_API GISP_NODISCARD gisp_status* gisp_load_options_create(gisp_load_options** out);
GISP_API void gisp_load_options_free(gisp_load_options* options);
GISP_API GISP_NODISCARD gisp_status* gisp_load_options_set_device(gisp_load_options* options,
                                                                  gisp_device device,
                                                                  int device_index);
/* The dtype of the working copy's weights: F32, or BF16/F16 on a backend that computes with
 * 16-bit weights (CUDA; UNIMPLEMENTED elsewhere); AUTO keeps a 16-bit checkpoint 16-bit where
 * the backend can and uses F32 otherwise. */
GISP_API GISP_NODISCARD gisp_status* gisp_load_options_set_working_dtype(gisp_load_options* options,
                                                                         gisp_dtype dtype);
/* Layer streaming (docs/memory.md, docs/scaling.md): when `enabled`, the decoder layers' weights
 * stay in host memory (the memory-mapped checkpoint; host copies once pruning changes a layer)
 * and each layer is uploaded to the device for its forward and again for its backward; the
 * calibration gradients (Gbar) of the layers live in host memory too. The device then holds the
 * embeddings, the head and one layer, so a model whose weights do not fit the device can be
 * pruned; results are identical to the default (resident) placement, at the cost of uploading
 * the layers twice per calibration batch. Default: false. Added in ABI 1 (append). */
GISP_API GISP_NODISCARD gisp_status* gisp_load_options_set_stream_layers(gisp_load_options* options,
                                                                         bool enabled);
/* The context the model runs under (copied; NULL: none). */
GISP_API GISP_NODISCARD gisp_status* gisp_load_options_set_context(gisp_load_options* options,
                                                                   const gisp_context* ctx);
/* Called on the loading thread after each decoder layer is placed on the device, with the
 * layers done and the total. Return false to cancel the load (GISP_CANCELLED, no model). */
typedef bool (*gisp_load_progress_fn)(int64_t done, int64_t total, void* user_data);
GISP_API GISP_NODISCARD gisp_status* gisp_load_options_set_progress_callback(
    gisp_load_options* options, gisp_load_progress_fn fn, void* user_data);

/* gisp_model_load with options (NULL: the defaults). */
GISP_API GISP_NODISCARD gisp_status* gisp_model_load_with_options(const char* model_dir,
                                                                  const gisp_load_options* options,
                                                                  gisp_model** out);
/* Replaces the context `model` runs under (a copy; NULL: none). Materialized models start with
 * their source's context. Not while another thread is inside a call on this model. */
GISP_API GISP_NODISCARD gisp_status* gisp_model_set_context(gisp_model* model,
                                                            const gisp_context* ctx);

/* Append-only. */
typedef enum gisp_model_field {
  GISP_MODEL_VOCAB_SIZE = 0,
  GISP_MODEL_HIDDEN_SIZE = 1,
  GISP_MODEL_NUM_LAYERS = 2,
  GISP_MODEL_NUM_HEADS = 3,
  GISP_MODEL_NUM_KV_HEADS = 4,
  GISP_MODEL_HEAD_DIM = 5,
  GISP_MODEL_INTERMEDIATE_SIZE = 6,
  GISP_MODEL_TOTAL_PARAMETERS = 7,   /* current (pruned) widths */
  GISP_MODEL_DECODER_PARAMETERS = 8, /* current widths, decoder layers only */
  GISP_MODEL_MAX_POSITIONS = 9
} gisp_model_field;

/* Reads one integer property of the model's configuration (dense sizes; parameter counts
 * follow the current, possibly pruned, widths). */
GISP_API GISP_NODISCARD gisp_status* gisp_model_get_int(const gisp_model* model,
                                                        gisp_model_field field, int64_t* out);
/* The model's config.json as gisp would write it (when pruned: gisp's sliced format, model_type
 * "gisp_sliced" with gisp_per_layer_config). The caller frees `*json` with gisp_string_free. */
GISP_API GISP_NODISCARD gisp_status* gisp_model_config_json(const gisp_model* model, char** json);

/* Tokenizes `text` with the model's tokenizer (add_special_tokens: the tokenizer's BOS etc.).
 * `*ids` is allocated by gisp (free with gisp_tokens_free); `*count` tokens. */
GISP_API GISP_NODISCARD gisp_status* gisp_model_tokenize(gisp_model* model, const char* text,
                                                         bool add_special_tokens, int32_t** ids,
                                                         size_t* count);

/* Frees token ids returned by gisp_model_tokenize. Accepts NULL. */
GISP_API void gisp_tokens_free(int32_t* ids);

/* ---------------------------------------------------------------------------------------------
 * Calibration data
 * ------------------------------------------------------------------------------------------- */

typedef struct gisp_calibration gisp_calibration;

/* Random windows of `window_tokens` tokens from a text file (one document) or a JSONL file (one
 * document per line in field "text"), `count` of them, drawn with `seed` as the paper samples
 * C4. Loss on every next-token prediction (objective "lm"). */
GISP_API GISP_NODISCARD gisp_status* gisp_calibration_text_windows(gisp_model* model,
                                                                   const char* path,
                                                                   int64_t window_tokens,
                                                                   int64_t count, uint64_t seed,
                                                                   gisp_calibration** out);
/* {"question": ..., "answer": ...} JSONL rendered as "Q: {question}\nA: {answer}", loss on the
 * answer tokens (objective "answer-only"). `limit` > 0 keeps the first `limit` pairs. */
GISP_API GISP_NODISCARD gisp_status* gisp_calibration_qa_jsonl(gisp_model* model, const char* path,
                                                               int64_t limit,
                                                               gisp_calibration** out);
/* {"context": ..., "choices": [...], "label": i} JSONL: every candidate, loss on the choice's
 * tokens, correct candidates positive (objective "margin"). */
GISP_API GISP_NODISCARD gisp_status* gisp_calibration_multiple_choice_jsonl(gisp_model* model,
                                                                            const char* path,
                                                                            int64_t limit,
                                                                            gisp_calibration** out);
/* Caller-provided token sequences. `tokens[i]` has `lengths[i]` ids. `label_masks` (NULL: every
 * token after the first) marks with 1 the tokens whose prediction carries loss, so
 * label_masks[i][0] is ignored. `positive` (NULL: all positive) marks correct candidates for the
 * margin objective. Everything is copied. */
GISP_API GISP_NODISCARD gisp_status* gisp_calibration_from_tokens(
    size_t num_sequences, const int32_t* const* tokens, const size_t* lengths,
    const uint8_t* const* label_masks, const uint8_t* positive, gisp_calibration** out);
/* gisp_calibration_from_tokens, checked against `model` while the data is built: every id must
 * be inside the model's vocabulary and every sequence no longer than its
 * max_position_embeddings; the error names the sequence and the position. The data runs under
 * the model's context. Prefer this over gisp_calibration_from_tokens. */
GISP_API GISP_NODISCARD gisp_status* gisp_calibration_from_model_tokens(
    gisp_model* model, size_t num_sequences, const int32_t* const* tokens, const size_t* lengths,
    const uint8_t* const* label_masks, const uint8_t* positive, gisp_calibration** out);
GISP_API size_t gisp_calibration_num_sequences(const gisp_calibration* data);
/* Frees the calibration set. Accepts NULL. Must not be called while a pruner uses it. */
GISP_API void gisp_calibration_free(gisp_calibration* data);

/* ---------------------------------------------------------------------------------------------
 * Prune configuration (defaults reproduce the GISP authors' released code)
 * ------------------------------------------------------------------------------------------- */

typedef struct gisp_prune_config gisp_prune_config;

typedef enum gisp_objective {
  GISP_OBJECTIVE_LM = 0,
  GISP_OBJECTIVE_ANSWER_ONLY = 1,
  GISP_OBJECTIVE_MARGIN = 2
} gisp_objective;

typedef enum gisp_normalization {
  GISP_NORMALIZATION_REFERENCE = 0, /* heads / (4 d_head d_model), channels / (3 d_ff) */
  GISP_NORMALIZATION_PAPER = 1,     /* heads / (4 d_head d_model), channels / (3 d_model) */
  GISP_NORMALIZATION_NONE = 2
} gisp_normalization;

typedef enum gisp_gqa_unit {
  GISP_GQA_UNIT_QUERY_HEAD = 0, /* one unit per query head, K/V kept */
  GISP_GQA_UNIT_KV_GROUP = 1    /* one unit per KV head and its query heads */
} gisp_gqa_unit;

/* The pruning method (docs/baselines.md). Every method scores the same units with the same
 * protected layers and writes the same record; all but GISP score the dense model once and give
 * one record step per target sparsity (gisp_prune_config_set_target_sparsities). FLAP's record
 * also carries its bias compensation data (per-layer input means of o_proj and down_proj,
 * Record.flap_input_means); gisp_model_materialize (and so every export) adds the compensation to
 * the subnetwork's o_proj/down_proj biases, creating HF attention/MLP biases where the model had
 * none (docs/baselines.md, "FLAP"). */
typedef enum gisp_method {
  GISP_METHOD_GISP = 0,       /* global iterative structured pruning (the default) */
  GISP_METHOD_ONESHOT = 1,    /* GISP's scores of the dense model, one global ranking */
  GISP_METHOD_WANDA_SP = 2,   /* |W| * ||X||_2 over o_proj/down_proj inputs, same ratio per layer */
  GISP_METHOD_FLAP = 3,       /* input variance * squared column norm, standardized, global */
  GISP_METHOD_LLM_PRUNER = 4, /* local first-order Taylor |W * G|, same ratio per layer */
  GISP_METHOD_MAGNITUDE = 5,  /* L2 norm of the unit's weights, same ratio per layer */
  GISP_METHOD_RANDOM = 6      /* seeded random scores, same ratio per layer */
} gisp_method;

/* The names the prune CLI, the documentation and gisp's messages use for these values:
 * objectives "lm", "answer-only", "margin"; normalizations "reference", "paper", "none"; GQA units
 * "query-head", "kv-group". `*_name` returns NULL for a value outside the enum (static storage,
 * thread-safe); `*_from_name` gives InvalidArgument naming the accepted names and `name`. */
GISP_API const char* gisp_objective_name(gisp_objective value);
GISP_API GISP_NODISCARD gisp_status* gisp_objective_from_name(const char* name,
                                                              gisp_objective* out);
GISP_API const char* gisp_normalization_name(gisp_normalization value);
GISP_API GISP_NODISCARD gisp_status* gisp_normalization_from_name(const char* name,
                                                                  gisp_normalization* out);
GISP_API const char* gisp_gqa_unit_name(gisp_gqa_unit value);
GISP_API GISP_NODISCARD gisp_status* gisp_gqa_unit_from_name(const char* name, gisp_gqa_unit* out);
/* Methods: "gisp", "oneshot", "wanda-sp", "flap", "llm-pruner", "magnitude", "random"; same
 * contract as the functions above. */
GISP_API const char* gisp_method_name(gisp_method value);
GISP_API GISP_NODISCARD gisp_status* gisp_method_from_name(const char* name, gisp_method* out);

/* A configuration with the defaults: objective lm, ratio 0.7, 112 steps, reference
 * normalization, query-head units, first floor(0.1 L) and the last layer protected, batch size
 * 2, no channel rounding, compaction on. */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_create(gisp_prune_config** out);
GISP_API void gisp_prune_config_free(gisp_prune_config* config);
/* Setters validate their argument (InvalidArgument naming the option and the allowed range). */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_objective(gisp_prune_config* c,
                                                                     gisp_objective v);
/* rho, in [0, 1): fraction of units pruned after the last step. */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_ratio(gisp_prune_config* c, double v);
/* n >= 1: number of steps (1 = one-shot). */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_steps(gisp_prune_config* c, int32_t v);
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_normalization(gisp_prune_config* c,
                                                                         gisp_normalization v);
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_gqa_unit(gisp_prune_config* c,
                                                                    gisp_gqa_unit v);
/* Round kept MLP channels per layer to a multiple of v (0 = off). */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_round_channels_to(gisp_prune_config* c,
                                                                             int32_t v);
/* Layers with index < floor(v * L) are protected (default 0.1). */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_protect_first_fraction(
    gisp_prune_config* c, double v);
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_protect_last(gisp_prune_config* c,
                                                                        bool v);
/* Sequences per gradient batch (default 2). */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_batch_size(gisp_prune_config* c,
                                                                      int32_t v);
/* The pruning method (default GISP_METHOD_GISP). */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_method(gisp_prune_config* c,
                                                                  gisp_method v);
/* Methods other than GISP: the decoder sparsities the record's steps aim at, each in (0, 1), any
 * order (sorted and deduplicated by the pruner), copied; n = 0 (values may then be NULL) clears
 * them, and the steps then aim at the linear schedule's ratios read as decoder sparsities. Each
 * step prunes the set whose measured sparsity is nearest its target (docs/baselines.md). GISP
 * ignores them. */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_target_sparsities(gisp_prune_config* c,
                                                                             const double* values,
                                                                             size_t n);
/* GISP_METHOD_RANDOM: the seed of the unit scores (default 0). */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_seed(gisp_prune_config* c, uint64_t v);
/* Physically shrink the working model after each step (default true; same results). */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_set_compact(gisp_prune_config* c, bool v);
/* The configuration as JSON (the record's "config" field). Free with gisp_string_free. */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_to_json(const gisp_prune_config* c,
                                                               char** json);
/* The decoder sparsity (docs/formats.md, "The record") a run of `c` on `model` starts from and the
 * highest it can reach, known before the run. `*dense` is the dense model's own sparsity: its
 * RMSNorm weights count in the denominator but are never pruned, so it is above 0, and every
 * step's sparsity in a record starts from it. `*reachable` is an upper bound: the heaviest
 * unprotected units pruned, as many as the last step's ratio allows (ties at a threshold aside);
 * targets above it cannot be reached. Counts the model's nonzero weights (a pass over them).
 * `model` must be dense as loaded by gisp_model_load, not pruned by a pruner (FailedPrecondition
 * otherwise). Either output may be NULL. */
GISP_API GISP_NODISCARD gisp_status* gisp_prune_config_sparsity_range(const gisp_prune_config* c,
                                                                      const gisp_model* model,
                                                                      double* dense,
                                                                      double* reachable);

/* ---------------------------------------------------------------------------------------------
 * Records (prune once, deploy many)
 * ------------------------------------------------------------------------------------------- */

typedef struct gisp_record gisp_record;

/* Binary protobuf or JSON (recognized by content). Validated on load. */
GISP_API GISP_NODISCARD gisp_status* gisp_record_load(const char* path, gisp_record** out);
/* JSON when `path` ends in ".json", binary otherwise. Written atomically. */
GISP_API GISP_NODISCARD gisp_status* gisp_record_save(const gisp_record* record, const char* path);
GISP_API GISP_NODISCARD gisp_status* gisp_record_to_json(const gisp_record* record, char** json);
/* Binary protobuf bytes; free `*data` with gisp_buffer_free. */
GISP_API GISP_NODISCARD gisp_status* gisp_record_to_bytes(const gisp_record* record, uint8_t** data,
                                                          size_t* size);
GISP_API GISP_NODISCARD gisp_status* gisp_record_from_bytes(const uint8_t* data, size_t size,
                                                            gisp_record** out);
GISP_API void gisp_record_free(gisp_record* record);

GISP_API int32_t gisp_record_num_steps(const gisp_record* record); /* completed steps */
GISP_API int64_t gisp_record_num_units(const gisp_record* record);
GISP_API bool gisp_record_complete(const gisp_record* record);
/* Per unit (record order: per layer, head units then channel units) the step that pruned it,
 * or -1. `capacity` must be >= gisp_record_num_units. */
GISP_API GISP_NODISCARD gisp_status* gisp_record_unit_steps(const gisp_record* record, int32_t* out,
                                                            size_t capacity);
/* Per completed step: decoder sparsity after it / calibration loss of its gradient pass.
 * `capacity` must be >= gisp_record_num_steps. */
GISP_API GISP_NODISCARD gisp_status* gisp_record_step_sparsity(const gisp_record* record,
                                                               double* out, size_t capacity);
GISP_API GISP_NODISCARD gisp_status* gisp_record_step_loss(const gisp_record* record, double* out,
                                                           size_t capacity);
/* The completed step whose sparsity is nearest to `target` (OutOfRange if the run did not get
 * there). */
GISP_API GISP_NODISCARD gisp_status* gisp_record_nearest_step(const gisp_record* record,
                                                              double target, int32_t* step);

/* ---------------------------------------------------------------------------------------------
 * Pruner
 * ------------------------------------------------------------------------------------------- */

typedef struct gisp_pruner gisp_pruner;
typedef struct gisp_progress gisp_progress;

/* Progress of a running pruner; valid only during the callback. */
GISP_API int32_t gisp_progress_step(const gisp_progress* p);    /* step being computed */
GISP_API int32_t gisp_progress_steps(const gisp_progress* p);   /* total steps */
GISP_API int64_t gisp_progress_batch(const gisp_progress* p);   /* batches done this step */
GISP_API int64_t gisp_progress_batches(const gisp_progress* p); /* batches per step */
GISP_API double gisp_progress_elapsed_seconds(const gisp_progress* p);
GISP_API double gisp_progress_eta_seconds(const gisp_progress* p);
GISP_API double gisp_progress_sparsity(const gisp_progress* p); /* after the last step */
GISP_API double gisp_progress_loss(const gisp_progress* p);     /* of the last step */

/* Called after every calibration batch, on the thread running gisp_pruner_step/run. Return
 * false to cancel: the call then returns GISP_CANCELLED and the record keeps every completed
 * step (valid, resumable). The cancel token of the model's context stops it the same way. */
typedef bool (*gisp_progress_fn)(const gisp_progress* progress, void* user_data);

/* Creates a pruner that prunes `model` in place (its working copy becomes the subnetwork; the
 * memory-mapped original stays available for gisp_model_materialize). With `resume` (may be
 * NULL), continues that record after its last completed step; it must come from the same model,
 * calibration set and configuration (FailedPrecondition otherwise). `model` and `data` must
 * outlive the pruner. The objective must match the calibration source (e.g. margin needs
 * positive and negative sequences). */
GISP_API GISP_NODISCARD gisp_status* gisp_pruner_create(gisp_model* model,
                                                        const gisp_calibration* data,
                                                        const gisp_prune_config* config,
                                                        const gisp_record* resume,
                                                        gisp_pruner** out);
GISP_API void gisp_pruner_free(gisp_pruner* pruner);
/* `fn` may be NULL. `user_data` must stay valid while the pruner runs. */
GISP_API void gisp_pruner_set_progress_callback(gisp_pruner* pruner, gisp_progress_fn fn,
                                                void* user_data);
/* After every completed step, write the record to `path` (atomically; JSON if it ends in
 * ".json"). NULL disables. Under a communicator, rank 0 alone writes. */
GISP_API GISP_NODISCARD gisp_status* gisp_pruner_set_checkpoint_path(gisp_pruner* pruner,
                                                                     const char* path);
/* Runs one step. FailedPrecondition when all steps are done. */
GISP_API GISP_NODISCARD gisp_status* gisp_pruner_step(gisp_pruner* pruner);
/* Runs the remaining steps and the final calibration loss. */
GISP_API GISP_NODISCARD gisp_status* gisp_pruner_run(gisp_pruner* pruner);
GISP_API bool gisp_pruner_done(const gisp_pruner* pruner);
GISP_API int32_t gisp_pruner_next_step(const gisp_pruner* pruner);
GISP_API int32_t gisp_pruner_total_steps(const gisp_pruner* pruner);
/* Number of units the pruner ranks (heads or KV groups and MLP channels of every layer,
 * protected ones included): the capacity gisp_pruner_scores needs. */
GISP_API int64_t gisp_pruner_num_units(const gisp_pruner* pruner);
/* A copy of the current record (the caller frees it). */
GISP_API GISP_NODISCARD gisp_status* gisp_pruner_record(const gisp_pruner* pruner,
                                                        gisp_record** out);
/* Normalized unit scores of the last completed step (record order; +inf for protected units,
 * 0 for pruned ones). `capacity` must be >= gisp_record_num_units. */
GISP_API GISP_NODISCARD gisp_status* gisp_pruner_scores(const gisp_pruner* pruner, double* out,
                                                        size_t capacity, size_t* count);
/* Per step this pruner computed (not those replayed from a resumed record): wall seconds of the
 * whole step, the gradient pass, scoring, ranking and compaction, as a JSON array whose elements
 * are gisp.proto's StepTiming in protobuf's JSON mapping (docs/formats.md): [{"step": 0,
 * "seconds": .., "gradient_seconds": .., "scoring_seconds": .., "ranking_seconds": ..,
 * "compaction_seconds": ..}, ...]; [] before the first step. Free with gisp_string_free. */
GISP_API GISP_NODISCARD gisp_status* gisp_pruner_timings_json(const gisp_pruner* pruner,
                                                              char** json);

/* ---------------------------------------------------------------------------------------------
 * Deploying: materialize, export, evaluate
 * ------------------------------------------------------------------------------------------- */

/* The subnetwork of `record` at completed step `step`, sliced from `model`'s original
 * (memory-mapped) weights with no gradient pass; loaded on the same device. The record must
 * belong to this model (FailedPrecondition otherwise). */
GISP_API GISP_NODISCARD gisp_status* gisp_model_materialize(const gisp_model* model,
                                                            const gisp_record* record, int32_t step,
                                                            gisp_model** out);
/* Writes `model` (dense or materialized) as an HF-style directory: config.json (gisp's sliced
 * format with gisp_per_layer_config for pruned layers, see docs/formats.md) and
 * model.safetensors in `dtype`. Atomic per file. */
GISP_API GISP_NODISCARD gisp_status* gisp_model_export(const gisp_model* model, const char* dir,
                                                       gisp_dtype dtype);

/* Deployment formats (append-only). See docs/deploy.md. */
typedef enum gisp_export_format {
  GISP_EXPORT_SLICED = 0, /* gisp's exact format (model_type gisp_sliced); gisp loads it */
  GISP_EXPORT_LLAMA = 1,  /* uniform HF checkpoint of the source family, zero-padded layers */
  GISP_EXPORT_GGUF = 2,   /* llama.cpp GGUF (`deci` per-layer widths, `llama` when uniform) */
  GISP_EXPORT_DECILM = 3  /* DeciLM / Nemotron-NAS block_configs (vLLM, TensorRT-LLM) */
} gisp_export_format;

/* Writes `model` (dense or materialized) as `format` into `dir`, which must not exist or be an
 * empty directory (FailedPrecondition otherwise). All or nothing: the files are staged in a
 * hidden sibling directory renamed into place at the end, so on any error nothing is left.
 * Weights in `dtype` (AUTO: the checkpoint's). HF-style formats get the tokenizer files.
 * `parameters` (may be NULL) receives the written model's parameter count (zero padding
 * included), `exact_parameters` (may be NULL) the sliced model's own count.
 * Unimplemented for a format this build does not write yet. */
GISP_API GISP_NODISCARD gisp_status* gisp_model_export_format(const gisp_model* model,
                                                              gisp_export_format format,
                                                              const char* dir, gisp_dtype dtype,
                                                              int64_t* parameters,
                                                              int64_t* exact_parameters);

/* Next-token logits of one sequence of `count` token ids (no special tokens are added), f32,
 * row-major [count, vocab] into `logits`; `capacity` must be >= count * vocab. Runs on the
 * model's device; for checking exports against the runtimes that load them. */
GISP_API GISP_NODISCARD gisp_status* gisp_model_logits(gisp_model* model, const int32_t* ids,
                                                       size_t count, float* logits,
                                                       size_t capacity);

/* Perplexity with the paper's protocol: the text file tokenized once, non-overlapping chunks of
 * `chunk_tokens` (default 128 when 0), at most `max_chunks` chunks (0: all). */
GISP_API GISP_NODISCARD gisp_status* gisp_eval_perplexity(gisp_model* model, const char* text_path,
                                                          int64_t chunk_tokens, int64_t max_chunks,
                                                          double* perplexity, int64_t* tokens);
/* Zero-shot multiple-choice accuracy (lm-eval conventions) on {"context","choices","label"}
 * JSONL; `limit` > 0 evaluates the first `limit` items. */
GISP_API GISP_NODISCARD gisp_status* gisp_eval_multiple_choice(gisp_model* model,
                                                               const char* jsonl_path,
                                                               int64_t limit, double* acc,
                                                               double* acc_norm);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GISP_C_API_GISP_H_ */
