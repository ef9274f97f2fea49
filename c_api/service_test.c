/* What a service embedding gisp relies on, through gisp.h alone (C11, -pedantic -Werror):
 * contexts and their validation, cancel tokens honoured by every long call with nothing partial
 * left behind, load options with progress, per-context logging, the memory budget, and
 * calibration ids checked against the model. Multi-threaded use is in thread_safety_test.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "c_api/c_test.h"
#include "c_api/gisp.h"

static const char* kTiny = "testdata/tiny/model";

/* ---- Contexts and tokens ---- */

static void test_context_validation(void) {
  gisp_context* ctx = NULL;
  ok(gisp_context_create(&ctx), "context");
  CHECK(gisp_context_num_threads(ctx) >= 1);
  CHECK(gisp_context_num_threads(NULL) >= 1);
  fails(gisp_context_set_num_threads(ctx, -1), GISP_INVALID_ARGUMENT, "-1", "threads -1");
  fails(gisp_context_set_num_threads(ctx, 100000), GISP_INVALID_ARGUMENT, "100000", "threads 1e5");
  ok(gisp_context_set_num_threads(ctx, 3), "threads 3");
  CHECK(gisp_context_num_threads(ctx) == 3);
  fails(gisp_context_set_memory_budget(ctx, -5), GISP_INVALID_ARGUMENT, "-5", "budget -5");
  fails(gisp_context_set_log_callback(ctx, NULL, (gisp_log_level)7, NULL), GISP_INVALID_ARGUMENT,
        "min_level", "log level 7");
  fails(gisp_context_set_num_threads(NULL, 1), GISP_INVALID_ARGUMENT, "ctx", "NULL context");
  gisp_context_free(ctx);
  gisp_context_free(NULL);

  gisp_cancel_token* token = NULL;
  ok(gisp_cancel_token_create(&token), "token");
  CHECK(!gisp_cancel_token_is_cancelled(token));
  gisp_cancel_token_cancel(token);
  gisp_cancel_token_cancel(token);
  CHECK(gisp_cancel_token_is_cancelled(token));
  gisp_cancel_token_reset(token);
  CHECK(!gisp_cancel_token_is_cancelled(token));
  gisp_cancel_token_free(token);
  gisp_cancel_token_free(NULL);
  CHECK(!gisp_cancel_token_is_cancelled(NULL));

  gisp_load_options* o = NULL;
  ok(gisp_load_options_create(&o), "options");
  fails(gisp_load_options_set_device(o, (gisp_device)7, 0), GISP_INVALID_ARGUMENT, "device",
        "device 7");
  fails(gisp_load_options_set_device(o, GISP_DEVICE_CPU, -1), GISP_INVALID_ARGUMENT, "device_index",
        "index -1");
  fails(gisp_load_options_set_working_dtype(o, (gisp_dtype)9), GISP_INVALID_ARGUMENT, "dtype",
        "dtype 9");
  /* The CPU backend keeps weights in f32: an explicit bf16 working copy is refused. */
  ok(gisp_load_options_set_working_dtype(o, GISP_DTYPE_BF16), "dtype bf16");
  gisp_model* m = NULL;
  fails(gisp_model_load_with_options(kTiny, o, &m), GISP_UNIMPLEMENTED, "bf16", "bf16 on cpu");
  CHECK(m == NULL);
  gisp_load_options_free(o);
  gisp_load_options_free(NULL);
}

/* ---- Load options and progress ---- */

typedef struct {
  int calls;
  int64_t last_done, total;
  int cancel_after; /* return false on this call (0: never) */
  int monotonic;
} load_state;

static bool on_load(int64_t done, int64_t total, void* user) {
  load_state* st = (load_state*)user;
  ++st->calls;
  if (done != st->last_done + 1) st->monotonic = 0;
  st->last_done = done;
  st->total = total;
  return st->calls != st->cancel_after;
}

static void test_load_progress(void) {
  gisp_load_options* o = NULL;
  ok(gisp_load_options_create(&o), "options");
  load_state st = {0, 0, 0, 0, 1};
  ok(gisp_load_options_set_progress_callback(o, on_load, &st), "progress");
  gisp_model* m = NULL;
  ok(gisp_model_load_with_options(kTiny, o, &m), "load with progress");
  CHECK(m != NULL);
  CHECK(st.calls == 6 && st.total == 6 && st.last_done == 6 && st.monotonic);
  gisp_model_free(m);

  /* Layer streaming loads too, with the same per-layer progress (the layers stay on the host). */
  load_state streamed = {0, 0, 0, 0, 1};
  ok(gisp_load_options_set_progress_callback(o, on_load, &streamed), "progress");
  ok(gisp_load_options_set_stream_layers(o, true), "stream layers");
  m = NULL;
  ok(gisp_model_load_with_options(kTiny, o, &m), "streamed load");
  CHECK(m != NULL && streamed.calls == 6 && streamed.last_done == 6 && streamed.monotonic);
  gisp_model_free(m);
  ok(gisp_load_options_set_stream_layers(o, false), "resident layers");

  load_state stop = {0, 0, 0, 2, 1};
  ok(gisp_load_options_set_progress_callback(o, on_load, &stop), "progress");
  m = NULL;
  fails(gisp_model_load_with_options(kTiny, o, &m), GISP_CANCELLED, "load", "cancelled load");
  CHECK(m == NULL && stop.calls == 2);

  /* A raised token in the options' context stops the load before any work. */
  gisp_cancel_token* token = NULL;
  gisp_context* ctx = NULL;
  ok(gisp_cancel_token_create(&token), "token");
  ok(gisp_context_create(&ctx), "context");
  ok(gisp_context_set_cancel_token(ctx, token), "set token");
  gisp_cancel_token_free(token); /* the context keeps it alive */
  ok(gisp_load_options_set_progress_callback(o, NULL, NULL), "no progress");
  ok(gisp_load_options_set_context(o, ctx), "set context");
  gisp_context_free(ctx); /* the options hold a copy */
  ok(gisp_model_load_with_options(kTiny, o, &m), "load with an idle token");
  gisp_model_free(m);
  m = NULL;
  gisp_load_options_free(o);
  ok(gisp_model_load_with_options(kTiny, NULL, &m), "load with default options");
  gisp_model_free(m);
}

/* ---- Logging ---- */

typedef struct {
  int messages;
  int saw_backend;
  int saw_step;
  int warnings_about_threads;
} log_state;

static void on_log(gisp_log_level level, const char* message, void* user) {
  log_state* st = (log_state*)user;
  ++st->messages;
  if (strstr(message, "backend cpu") != NULL) st->saw_backend = 1;
  if (strstr(message, "step 1/2") != NULL && strstr(message, "sparsity") != NULL) st->saw_step = 1;
  if (level == GISP_LOG_WARNING && strstr(message, "cores") != NULL) ++st->warnings_about_threads;
}

static gisp_calibration* windows(gisp_model* m, int64_t count) {
  gisp_calibration* data = NULL;
  ok(gisp_calibration_text_windows(m, "testdata/tiny/calib.txt", 32, count, 0, &data), "windows");
  return data;
}

static gisp_prune_config* config(int32_t steps, double ratio) {
  gisp_prune_config* c = NULL;
  ok(gisp_prune_config_create(&c), "config");
  ok(gisp_prune_config_set_steps(c, steps), "steps");
  ok(gisp_prune_config_set_ratio(c, ratio), "ratio");
  return c;
}

static void test_logging_and_budget(void) {
  log_state global = {0, 0, 0, 0}, mine = {0, 0, 0, 0};
  gisp_set_log_callback(on_log, GISP_LOG_INFO, &global);
  gisp_context* ctx = NULL;
  ok(gisp_context_create(&ctx), "context");
  ok(gisp_context_set_log_callback(ctx, on_log, GISP_LOG_INFO, &mine), "ctx log");
  gisp_load_options* o = NULL;
  ok(gisp_load_options_create(&o), "options");
  ok(gisp_load_options_set_context(o, ctx), "set context");
  gisp_model* m = NULL;
  ok(gisp_model_load_with_options(kTiny, o, &m), "load");
  CHECK(mine.saw_backend);
  gisp_calibration* data = windows(m, 4);
  gisp_prune_config* c = config(2, 0.3);
  gisp_pruner* p = NULL;
  ok(gisp_pruner_create(m, data, c, NULL, &p), "pruner");
  ok(gisp_pruner_step(p), "step");
  CHECK(mine.saw_step);
  /* The context's sink took the messages; the process-wide one saw none of them. */
  CHECK(global.messages == 0);
  CHECK(gisp_pruner_num_units(p) > 0);
  gisp_record* r = NULL;
  ok(gisp_pruner_record(p, &r), "record");
  CHECK(gisp_pruner_num_units(p) == gisp_record_num_units(r));
  CHECK(gisp_pruner_num_units(NULL) == 0);
  gisp_record_free(r);
  gisp_pruner_free(p);
  gisp_model_free(m);

  /* A model without a context logs to the process-wide callback. */
  m = NULL;
  ok(gisp_model_load(kTiny, GISP_DEVICE_CPU, 0, &m), "load without context");
  CHECK(global.saw_backend);
  gisp_set_log_callback(NULL, GISP_LOG_INFO, NULL);

  /* A budget below what one calibration pass needs is refused before any work, naming it. */
  ok(gisp_context_set_log_callback(ctx, NULL, GISP_LOG_INFO, NULL), "no ctx log");
  ok(gisp_context_set_memory_budget(ctx, 4096), "budget 4 KiB");
  ok(gisp_model_set_context(m, ctx), "set context");
  p = NULL;
  fails(gisp_pruner_create(m, data, c, NULL, &p), GISP_RESOURCE_EXHAUSTED, "memory budget",
        "pruner over budget");
  CHECK(p == NULL);

  gisp_prune_config_free(c);
  gisp_calibration_free(data);
  gisp_model_free(m);

  /* More threads than cores: a warning through the context's sink, at WARNING. */
  log_state warned = {0, 0, 0, 0};
  ok(gisp_context_set_memory_budget(ctx, 0), "budget auto");
  ok(gisp_context_set_log_callback(ctx, on_log, GISP_LOG_WARNING, &warned), "ctx warnings");
  ok(gisp_context_set_num_threads(ctx, (int32_t)sysconf(_SC_NPROCESSORS_ONLN) + 1), "threads");
  ok(gisp_load_options_set_context(o, ctx), "set context");
  m = NULL;
  ok(gisp_model_load_with_options(kTiny, o, &m), "load oversubscribed");
  CHECK(warned.warnings_about_threads == 1);
  CHECK(warned.saw_backend == 0); /* info messages are below the level */
  gisp_model_free(m);
  gisp_load_options_free(o);
  gisp_context_free(ctx);
}

/* ---- Cancellation of every long call ---- */

static int exists(const char* path) {
  struct stat s;
  return stat(path, &s) == 0;
}

static void test_cancel_every_call(void) {
  gisp_model* m = NULL;
  ok(gisp_model_load(kTiny, GISP_DEVICE_CPU, 0, &m), "load");
  if (m == NULL) return;
  gisp_calibration* data = windows(m, 4);
  gisp_prune_config* c = config(2, 0.3);
  gisp_pruner* p = NULL;
  ok(gisp_pruner_create(m, data, c, NULL, &p), "pruner");
  ok(gisp_pruner_step(p), "step 0");
  gisp_record* record = NULL;
  ok(gisp_pruner_record(p, &record), "record");

  gisp_model* dense = NULL;
  ok(gisp_model_load(kTiny, GISP_DEVICE_CPU, 0, &dense), "load dense");
  gisp_cancel_token* token = NULL;
  gisp_context* ctx = NULL;
  ok(gisp_cancel_token_create(&token), "token");
  ok(gisp_context_create(&ctx), "context");
  ok(gisp_context_set_cancel_token(ctx, token), "set token");
  ok(gisp_model_set_context(m, ctx), "set context on the pruned model");
  ok(gisp_model_set_context(dense, ctx), "set context on the dense model");
  gisp_cancel_token_cancel(token);

  fails(gisp_pruner_step(p), GISP_CANCELLED, "cancelled", "step");
  CHECK(gisp_pruner_next_step(p) == 1); /* the record keeps the completed step */
  fails(gisp_pruner_run(p), GISP_CANCELLED, "cancelled", "run");
  gisp_calibration* more = NULL;
  fails(gisp_calibration_text_windows(dense, "testdata/tiny/calib.txt", 32, 4, 0, &more),
        GISP_CANCELLED, "cancelled", "windows");
  CHECK(more == NULL);
  int32_t seq[4] = {1, 2, 3, 4};
  const int32_t* seqs[1] = {seq};
  size_t lens[1] = {4};
  fails(gisp_calibration_from_model_tokens(dense, 1, seqs, lens, NULL, NULL, &more), GISP_CANCELLED,
        "cancelled", "from model tokens");
  CHECK(more == NULL);
  double ppl = 0;
  fails(gisp_eval_perplexity(dense, "testdata/tiny/eval.txt", 64, 4, &ppl, NULL), GISP_CANCELLED,
        "cancelled", "perplexity");
  gisp_model* sub = NULL;
  fails(gisp_model_materialize(dense, record, 0, &sub), GISP_CANCELLED, "cancelled", "materialize");
  CHECK(sub == NULL);
  char dir[] = "/tmp/gisp_service_test_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char out[sizeof(dir) + 16];
  snprintf(out, sizeof(out), "%s/export", dir);
  fails(gisp_model_export_format(dense, GISP_EXPORT_LLAMA, out, GISP_DTYPE_F32, NULL, NULL),
        GISP_CANCELLED, "cancelled", "export");
  CHECK(!exists(out)); /* nothing partial */

  /* The same token, lowered, lets every call through. */
  gisp_cancel_token_reset(token);
  ok(gisp_pruner_run(p), "run after reset");
  CHECK(gisp_pruner_done(p));
  ok(gisp_eval_perplexity(dense, "testdata/tiny/eval.txt", 64, 4, &ppl, NULL), "perplexity");
  CHECK(isfinite(ppl) && ppl > 1);
  ok(gisp_model_materialize(dense, record, 0, &sub), "materialize");
  ok(gisp_model_export_format(sub, GISP_EXPORT_LLAMA, out, GISP_DTYPE_F32, NULL, NULL), "export");
  CHECK(exists(out));
  char cmd[sizeof(dir) + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  CHECK(system(cmd) == 0);

  gisp_model_free(sub);
  gisp_cancel_token_free(token);
  gisp_context_free(ctx);
  gisp_record_free(record);
  gisp_pruner_free(p);
  gisp_prune_config_free(c);
  gisp_calibration_free(data);
  gisp_model_free(dense);
  gisp_model_free(m);
}

/* ---- Calibration ids checked against the model ---- */

static void test_model_tokens(void) {
  gisp_model* m = NULL;
  ok(gisp_model_load(kTiny, GISP_DEVICE_CPU, 0, &m), "load");
  if (m == NULL) return;
  int32_t* ids = NULL;
  size_t n = 0;
  ok(gisp_model_tokenize(m, "In the beginning", true, &ids, &n), "tokenize");
  CHECK(n >= 2);
  gisp_calibration* data = NULL;
  const int32_t good[4] = {1, 2, 3, 4};
  const int32_t oov[4] = {1, 2, 3, 3072};
  const int32_t* seqs[2] = {ids, good};
  size_t lens[2] = {n, 4};
  ok(gisp_calibration_from_model_tokens(m, 2, seqs, lens, NULL, NULL, &data), "good tokens");
  CHECK(gisp_calibration_num_sequences(data) == 2);
  gisp_calibration_free(data);
  data = NULL;
  seqs[1] = oov;
  fails(gisp_calibration_from_model_tokens(m, 2, seqs, lens, NULL, NULL, &data),
        GISP_INVALID_ARGUMENT, "sequence 1 position 3 is outside the model's 3072-token vocabulary",
        "out of vocabulary");
  CHECK(data == NULL);
  int32_t* long_seq = calloc(300, sizeof(int32_t));
  const int32_t* one[1] = {long_seq};
  size_t one_len[1] = {300};
  fails(gisp_calibration_from_model_tokens(m, 1, one, one_len, NULL, NULL, &data),
        GISP_INVALID_ARGUMENT,
        "sequence 0 has 300 tokens, more than the model's "
        "max_position_embeddings (256)",
        "too long");
  free(long_seq);
  gisp_tokens_free(ids);
  gisp_tokens_free(NULL);
  gisp_model_free(m);
}

int main(void) {
  test_context_validation();
  test_load_progress();
  test_logging_and_budget();
  test_cancel_every_call();
  test_model_tokens();
  return c_test_finish("service");
}
