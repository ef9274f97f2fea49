/* The thread-safety contract of gisp.h, exercised: separate models pruned on separate threads at
 * the same time, each under its own context and thread budget, give records byte-identical to
 * the same jobs run one after the other; and a pruner running on one thread is cancelled from
 * another through a cancel token, stopping within one calibration batch with a valid,
 * resumable record. Also run under ThreadSanitizer (bazel test --config=tsan). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "c_api/c_test.h"
#include "c_api/gisp.h"

/* One prune job: its own context (thread budget), model, calibration data and pruner. */
typedef struct {
  int threads;
  double ratio;
  uint8_t* record; /* out: the record's bytes */
  size_t size;
} job;

static void* run_job(void* arg) {
  job* j = (job*)arg;
  gisp_context* ctx = NULL;
  gisp_load_options* o = NULL;
  gisp_model* m = NULL;
  gisp_calibration* data = NULL;
  gisp_prune_config* c = NULL;
  gisp_pruner* p = NULL;
  gisp_record* r = NULL;
  if (ok(gisp_context_create(&ctx), "context") &&
      ok(gisp_context_set_num_threads(ctx, j->threads), "threads") &&
      ok(gisp_load_options_create(&o), "options") &&
      ok(gisp_load_options_set_context(o, ctx), "set context") &&
      ok(gisp_model_load_with_options("testdata/tiny/model", o, &m), "load") &&
      ok(gisp_calibration_text_windows(m, "testdata/tiny/calib.txt", 48, 6, 7, &data), "data") &&
      ok(gisp_prune_config_create(&c), "config") &&
      ok(gisp_prune_config_set_steps(c, 3), "steps") &&
      ok(gisp_prune_config_set_ratio(c, j->ratio), "ratio") &&
      ok(gisp_pruner_create(m, data, c, NULL, &p), "pruner") && ok(gisp_pruner_run(p), "run") &&
      ok(gisp_pruner_record(p, &r), "record")) {
    ok(gisp_record_to_bytes(r, &j->record, &j->size), "bytes");
  }
  gisp_record_free(r);
  gisp_pruner_free(p);
  gisp_prune_config_free(c);
  gisp_calibration_free(data);
  gisp_model_free(m);
  gisp_load_options_free(o);
  gisp_context_free(ctx);
  return NULL;
}

static void test_concurrent_jobs_match_sequential(void) {
  /* Thread budgets 1 and 2; GISP_TEST_JOB_THREADS caps them (the TSan run uses 1: see .bazelrc). */
  const char* cap_env = getenv("GISP_TEST_JOB_THREADS");
  const int cap = cap_env != NULL && atoi(cap_env) > 0 ? atoi(cap_env) : 2;
  const int second = cap < 2 ? cap : 2;
  job seq[2] = {{1, 0.3, NULL, 0}, {second, 0.5, NULL, 0}};
  job par[2] = {{1, 0.3, NULL, 0}, {second, 0.5, NULL, 0}};
  run_job(&seq[0]);
  run_job(&seq[1]);
  pthread_t t[2];
  for (int i = 0; i < 2; ++i) CHECK(pthread_create(&t[i], NULL, run_job, &par[i]) == 0);
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  for (int i = 0; i < 2; ++i) {
    CHECK(seq[i].record != NULL && par[i].record != NULL);
    CHECK(seq[i].size == par[i].size && seq[i].size > 0);
    if (seq[i].record != NULL && par[i].record != NULL && seq[i].size == par[i].size) {
      CHECK(memcmp(seq[i].record, par[i].record, seq[i].size) == 0);
    }
    gisp_buffer_free(seq[i].record);
    gisp_buffer_free(par[i].record);
  }
}

/* ---- Cancellation from another thread ---- */

typedef struct {
  gisp_pruner* pruner;
  atomic_int batches;          /* progress callbacks so far */
  atomic_int batches_at_raise; /* progress callbacks when the token was raised (-1: not yet) */
  gisp_code code;
} running;

static bool on_progress(const gisp_progress* p, void* user) {
  (void)p;
  running* r = (running*)user;
  atomic_fetch_add(&r->batches, 1);
  return true;
}

static void* run_pruner(void* arg) {
  running* r = (running*)arg;
  gisp_status* s = gisp_pruner_run(r->pruner);
  r->code = gisp_status_code(s);
  gisp_status_free(s);
  return NULL;
}

static void test_cancel_from_another_thread(void) {
  gisp_cancel_token* token = NULL;
  gisp_context* ctx = NULL;
  gisp_load_options* o = NULL;
  gisp_model* m = NULL;
  gisp_calibration* data = NULL;
  gisp_prune_config* c = NULL;
  running r;
  r.pruner = NULL;
  atomic_init(&r.batches, 0);
  atomic_init(&r.batches_at_raise, -1);
  r.code = GISP_OK;
  if (!(ok(gisp_cancel_token_create(&token), "token") && ok(gisp_context_create(&ctx), "context") &&
        ok(gisp_context_set_cancel_token(ctx, token), "set token") &&
        ok(gisp_context_set_num_threads(ctx, getenv("GISP_TEST_JOB_THREADS") ? 1 : 0), "threads") &&
        ok(gisp_load_options_create(&o), "options") &&
        ok(gisp_load_options_set_context(o, ctx), "set context") &&
        ok(gisp_model_load_with_options("testdata/tiny/model", o, &m), "load") &&
        ok(gisp_calibration_text_windows(m, "testdata/tiny/calib.txt", 64, 16, 1, &data), "data") &&
        ok(gisp_prune_config_create(&c), "config") &&
        ok(gisp_prune_config_set_steps(c, 50), "steps") &&
        ok(gisp_pruner_create(m, data, c, NULL, &r.pruner), "pruner"))) {
    return;
  }
  gisp_pruner_set_progress_callback(r.pruner, on_progress, &r);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, run_pruner, &r) == 0);
  /* Raise the token once the run is well under way (a few batches in). */
  const struct timespec tick = {0, 2000000};
  while (atomic_load(&r.batches) < 3) nanosleep(&tick, NULL);
  atomic_store(&r.batches_at_raise, atomic_load(&r.batches));
  gisp_cancel_token_cancel(token);
  pthread_join(t, NULL);
  CHECK(r.code == GISP_CANCELLED);
  /* Within one batch: at most the batch in flight when the token was raised completed. */
  CHECK(atomic_load(&r.batches) - atomic_load(&r.batches_at_raise) <= 1);
  CHECK(!gisp_pruner_done(r.pruner));
  gisp_record* rec = NULL;
  uint8_t* bytes = NULL;
  size_t size = 0;
  gisp_record* back = NULL;
  if (ok(gisp_pruner_record(r.pruner, &rec), "record") &&
      ok(gisp_record_to_bytes(rec, &bytes, &size), "bytes") &&
      ok(gisp_record_from_bytes(bytes, size, &back), "reload (validated)")) {
    CHECK(!gisp_record_complete(back));
    CHECK(gisp_record_num_steps(back) == gisp_pruner_next_step(r.pruner));
  }
  /* Lowered again, the same pruner carries on from where it stopped. */
  gisp_cancel_token_reset(token);
  const int32_t before = gisp_pruner_next_step(r.pruner);
  ok(gisp_pruner_step(r.pruner), "step after reset");
  CHECK(gisp_pruner_next_step(r.pruner) == before + 1);
  gisp_record_free(back);
  gisp_buffer_free(bytes);
  gisp_record_free(rec);
  gisp_pruner_free(r.pruner);
  gisp_prune_config_free(c);
  gisp_calibration_free(data);
  gisp_model_free(m);
  gisp_load_options_free(o);
  gisp_context_free(ctx);
  gisp_cancel_token_free(token);
}

int main(void) {
  test_concurrent_jobs_match_sequential();
  test_cancel_from_another_thread();
  return c_test_finish("thread-safety");
}
