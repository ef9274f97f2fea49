/* The communicator seam through the C ABI alone, with a fake two-rank communicator whose ranks
 * are threads of this process (a pthread barrier and shared pointers stand in for MPI): the
 * ranks prune the tiny model together and end with the same record, whose decisions and losses
 * equal the single-process run's; a rank whose setup fails (a missing file, an objective that
 * does not fit its data) stops every rank with an error naming it; bad communicators are refused
 * with the reason. tools/ci/suite_mpi.sh runs the same through MPI (c_api/gisp_mpi.h). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_api/c_test.h"
#include "c_api/gisp.h"

#define RANKS 2

/* ---- The fake transport: each collective meets at the barrier twice (publish, then reuse) ---- */

static pthread_barrier_t g_barrier;
static void* g_slots[RANKS];

static int rank_of(void* user_data) { return (int)(intptr_t)user_data; }

/* Sums in rank order, so every rank gets the same bits (as the contract requires). */
#define FAKE_ALL_REDUCE(name, T)                                              \
  static int name(T* data, size_t count, void* user_data) {                   \
    g_slots[rank_of(user_data)] = data;                                       \
    pthread_barrier_wait(&g_barrier);                                         \
    T* sum = calloc(count ? count : 1, sizeof(T));                            \
    for (int r = 0; r < RANKS; ++r) {                                         \
      for (size_t i = 0; i < count; ++i) sum[i] += ((const T*)g_slots[r])[i]; \
    }                                                                         \
    pthread_barrier_wait(&g_barrier); /* every rank has read every buffer */  \
    memcpy(data, sum, count * sizeof(T));                                     \
    free(sum);                                                                \
    return 0;                                                                 \
  }
FAKE_ALL_REDUCE(fake_all_reduce_f32, float)
FAKE_ALL_REDUCE(fake_all_reduce_f64, double)

static int fake_broadcast(void* data, size_t bytes, int32_t root, void* user_data) {
  g_slots[rank_of(user_data)] = data;
  pthread_barrier_wait(&g_barrier);
  if (rank_of(user_data) != root) memcpy(data, g_slots[root], bytes);
  pthread_barrier_wait(&g_barrier);
  return 0;
}

static gisp_communicator* fake_communicator(int rank) {
  gisp_communicator* c = NULL;
  if (ok(gisp_communicator_create(rank, RANKS, (void*)(intptr_t)rank, &c), "communicator") &&
      ok(gisp_communicator_set_all_reduce_f32(c, fake_all_reduce_f32), "f32") &&
      ok(gisp_communicator_set_all_reduce_f64(c, fake_all_reduce_f64), "f64") &&
      ok(gisp_communicator_set_broadcast(c, fake_broadcast), "broadcast")) {
    return c;
  }
  gisp_communicator_free(c);
  return NULL;
}

/* ---- One rank's job: the CLI's parity configuration (tools/ci/cli_reference_record.sh) ---- */

typedef struct {
  int rank; /* -1: a single process, no communicator */
  const char* calib;
  gisp_objective objective;
  gisp_status* setup;  /* out: this rank's setup outcome */
  gisp_status* agreed; /* out: what the ranks agreed on after setup */
  gisp_status* run;    /* out: pruner create + run */
  gisp_record* record; /* out */
} job;

static void* run_job(void* arg) {
  job* j = (job*)arg;
  gisp_communicator* comm = j->rank >= 0 ? fake_communicator(j->rank) : NULL;
  gisp_context* ctx = NULL;
  gisp_load_options* o = NULL;
  gisp_model* m = NULL;
  gisp_calibration* data = NULL;
  gisp_prune_config* c = NULL;
  gisp_pruner* p = NULL;
  /* One thread per rank, so the two ranks are as deterministic as one process. */
  j->setup = gisp_context_create(&ctx);
  if (j->setup == NULL) j->setup = gisp_context_set_num_threads(ctx, 1);
  if (j->setup == NULL) j->setup = gisp_context_set_communicator(ctx, comm);
  if (j->setup == NULL) j->setup = gisp_load_options_create(&o);
  if (j->setup == NULL) j->setup = gisp_load_options_set_context(o, ctx);
  if (j->setup == NULL) j->setup = gisp_model_load_with_options("testdata/tiny/model", o, &m);
  if (j->setup == NULL) {
    j->setup = gisp_calibration_text_windows(m, j->calib, 64, 8, 0, &data);
  }
  if (comm != NULL) {
    j->agreed =
        gisp_communicator_agree(comm, gisp_status_code(j->setup), gisp_status_message(j->setup));
  }
  if (j->setup == NULL && j->agreed == NULL) {
    j->run = gisp_prune_config_create(&c);
    if (j->run == NULL) j->run = gisp_prune_config_set_objective(c, j->objective);
    if (j->run == NULL) j->run = gisp_prune_config_set_ratio(c, 0.5);
    if (j->run == NULL) j->run = gisp_prune_config_set_steps(c, 3);
    if (j->run == NULL) j->run = gisp_prune_config_set_batch_size(c, 4);
    if (j->run == NULL) j->run = gisp_pruner_create(m, data, c, NULL, &p);
    if (j->run == NULL) j->run = gisp_pruner_run(p);
    if (j->run == NULL) j->run = gisp_pruner_record(p, &j->record);
  }
  gisp_pruner_free(p);
  gisp_prune_config_free(c);
  gisp_calibration_free(data);
  gisp_model_free(m);
  gisp_load_options_free(o);
  gisp_context_free(ctx);
  gisp_communicator_free(comm);
  return NULL;
}

static void run_ranks(job* jobs) {
  pthread_t t[RANKS];
  for (int r = 0; r < RANKS; ++r) CHECK(pthread_create(&t[r], NULL, run_job, &jobs[r]) == 0);
  for (int r = 0; r < RANKS; ++r) pthread_join(t[r], NULL);
}

static void free_job(job* j) {
  gisp_status_free(j->setup);
  gisp_status_free(j->agreed);
  gisp_status_free(j->run);
  gisp_record_free(j->record);
}

#define MAX_UNITS 4096
#define MAX_STEPS 16

static void test_ranks_end_with_the_single_process_record(void) {
  job single = {-1, "testdata/tiny/calib.txt", GISP_OBJECTIVE_LM, NULL, NULL, NULL, NULL};
  run_job(&single);
  job ranks[RANKS] = {{0, "testdata/tiny/calib.txt", GISP_OBJECTIVE_LM, NULL, NULL, NULL, NULL},
                      {1, "testdata/tiny/calib.txt", GISP_OBJECTIVE_LM, NULL, NULL, NULL, NULL}};
  run_ranks(ranks);
  CHECK(single.run == NULL && single.record != NULL);
  uint8_t* bytes[RANKS] = {NULL, NULL};
  size_t sizes[RANKS] = {0, 0};
  for (int r = 0; r < RANKS; ++r) {
    CHECK(ranks[r].setup == NULL && ranks[r].agreed == NULL);
    if (ranks[r].run != NULL)
      fprintf(stderr, "rank %d: %s\n", r, gisp_status_message(ranks[r].run));
    CHECK(ranks[r].run == NULL && ranks[r].record != NULL);
    if (ranks[r].record == NULL || single.record == NULL) continue;
    ok(gisp_record_to_bytes(ranks[r].record, &bytes[r], &sizes[r]), "bytes");
    /* The same decisions and, each batch's loss being computed by one rank on the same model,
     * the same losses, bit for bit. */
    const int64_t units = gisp_record_num_units(single.record);
    const int32_t steps = gisp_record_num_steps(single.record);
    CHECK(units <= MAX_UNITS && steps <= MAX_STEPS);
    CHECK(gisp_record_num_units(ranks[r].record) == units);
    CHECK(gisp_record_num_steps(ranks[r].record) == steps);
    CHECK(gisp_record_complete(ranks[r].record));
    static int32_t want[MAX_UNITS], got[MAX_UNITS];
    ok(gisp_record_unit_steps(single.record, want, MAX_UNITS), "unit steps");
    ok(gisp_record_unit_steps(ranks[r].record, got, MAX_UNITS), "unit steps");
    CHECK(memcmp(want, got, (size_t)units * sizeof(int32_t)) == 0);
    double want_loss[MAX_STEPS], got_loss[MAX_STEPS];
    ok(gisp_record_step_loss(single.record, want_loss, MAX_STEPS), "loss");
    ok(gisp_record_step_loss(ranks[r].record, got_loss, MAX_STEPS), "loss");
    for (int32_t k = 0; k < steps; ++k) CHECK(want_loss[k] == got_loss[k]);
  }
  /* Identical Gbar on both ranks: the records are the same bytes. */
  CHECK(sizes[0] > 0 && sizes[0] == sizes[1]);
  if (sizes[0] > 0 && sizes[0] == sizes[1]) CHECK(memcmp(bytes[0], bytes[1], sizes[0]) == 0);
  for (int r = 0; r < RANKS; ++r) {
    gisp_buffer_free(bytes[r]);
    free_job(&ranks[r]);
  }
  free_job(&single);
}

static void test_a_rank_that_fails_setup_stops_every_rank(void) {
  job ranks[RANKS] = {{0, "testdata/tiny/calib.txt", GISP_OBJECTIVE_LM, NULL, NULL, NULL, NULL},
                      {1, "testdata/tiny/missing.txt", GISP_OBJECTIVE_LM, NULL, NULL, NULL, NULL}};
  run_ranks(ranks);
  CHECK(ranks[0].setup == NULL);
  CHECK(gisp_status_code(ranks[1].setup) == GISP_NOT_FOUND);
  for (int r = 0; r < RANKS; ++r) {
    const char* m = gisp_status_message(ranks[r].agreed);
    CHECK(gisp_status_code(ranks[r].agreed) == GISP_NOT_FOUND);
    CHECK(strncmp(m, "rank 1 of 2: ", 13) == 0 && strstr(m, "missing.txt") != NULL);
    CHECK(ranks[r].run == NULL && ranks[r].record == NULL); /* no rank went on */
    free_job(&ranks[r]);
  }
}

static void test_a_rank_whose_pruner_cannot_start_stops_every_rank(void) {
  /* Rank 1 asks for the margin objective on text windows: gisp_pruner_create refuses it before
   * the pruner exists, and abandons rank 0's gisp_pruner_create. */
  job ranks[RANKS] = {
      {0, "testdata/tiny/calib.txt", GISP_OBJECTIVE_LM, NULL, NULL, NULL, NULL},
      {1, "testdata/tiny/calib.txt", GISP_OBJECTIVE_MARGIN, NULL, NULL, NULL, NULL}};
  run_ranks(ranks);
  for (int r = 0; r < RANKS; ++r) {
    CHECK(ranks[r].agreed == NULL);
    const char* m = gisp_status_message(ranks[r].run);
    CHECK(gisp_status_code(ranks[r].run) == GISP_INVALID_ARGUMENT);
    CHECK(strncmp(m, "rank 1 of 2: ", 13) == 0 && strstr(m, "objective") != NULL);
    if (strncmp(m, "rank 1 of 2: ", 13) != 0) fprintf(stderr, "rank %d: %s\n", r, m);
    free_job(&ranks[r]);
  }
}

static void test_bad_communicators_are_refused(void) {
  gisp_communicator* c = NULL;
  fails(gisp_communicator_create(2, 2, NULL, &c), GISP_INVALID_ARGUMENT, "rank 2 of size 2",
        "rank out of range");
  fails(gisp_communicator_create(0, 0, NULL, &c), GISP_INVALID_ARGUMENT, "size 0", "size 0");
  fails(gisp_communicator_create(0, 2, NULL, NULL), GISP_INVALID_ARGUMENT, "out", "NULL out");
  CHECK(c == NULL);
  gisp_context* ctx = NULL;
  ok(gisp_context_create(&ctx), "context");
  ok(gisp_communicator_create(1, 2, NULL, &c), "communicator");
  fails(gisp_context_set_communicator(ctx, c), GISP_INVALID_ARGUMENT, "no all-reduce (f32)",
        "no functions");
  ok(gisp_communicator_set_all_reduce_f32(c, fake_all_reduce_f32), "f32");
  ok(gisp_communicator_set_all_reduce_f64(c, fake_all_reduce_f64), "f64");
  fails(gisp_context_set_communicator(ctx, c), GISP_INVALID_ARGUMENT, "no broadcast",
        "no broadcast");
  fails(gisp_communicator_set_broadcast(NULL, fake_broadcast), GISP_INVALID_ARGUMENT, "comm",
        "NULL communicator");
  ok(gisp_context_set_communicator(ctx, NULL), "no communicator");
  gisp_communicator_free(c);
  /* One rank: agree hands back a copy of the local outcome, unprefixed. */
  ok(gisp_communicator_create(0, 1, NULL, &c), "single");
  ok(gisp_context_set_communicator(ctx, c), "size 1 needs no functions");
  ok(gisp_communicator_agree(c, GISP_OK, NULL), "agree ok");
  gisp_status* one = gisp_communicator_agree(c, GISP_NOT_FOUND, "calib.txt does not exist");
  CHECK(gisp_status_code(one) == GISP_NOT_FOUND &&
        strcmp(gisp_status_message(one), "calib.txt does not exist") == 0);
  gisp_status_free(one);
  gisp_status* agreed = gisp_communicator_agree(c, GISP_DATA_LOSS, NULL);
  CHECK(gisp_status_code(agreed) == GISP_DATA_LOSS && strcmp(gisp_status_message(agreed), "") == 0);
  gisp_status_free(agreed);
  gisp_communicator_free(c);
  gisp_context_free(ctx);
}

int main(void) {
  CHECK(pthread_barrier_init(&g_barrier, NULL, RANKS) == 0);
  test_bad_communicators_are_refused();
  test_ranks_end_with_the_single_process_record();
  test_a_rank_that_fails_setup_stops_every_rank();
  test_a_rank_whose_pruner_cannot_start_stops_every_rank();
  pthread_barrier_destroy(&g_barrier);
  return c_test_finish("communicator");
}
