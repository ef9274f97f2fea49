/* A C11 program using gisp.h and libgisp.so only, compiled with -std=c11 -pedantic -Werror.
 * Exercises every group of the ABI: status and version, model queries, calibration sources,
 * configuration setters (including rejected values), a pruner with progress and cancellation,
 * records (bytes, JSON, files, queries), materialize/export and evaluation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_api/c_test.h"
#include "c_api/gisp.h"

typedef struct {
  int calls;
  int cancel_at_step;
} progress_state;

static bool on_progress(const gisp_progress* p, void* user) {
  progress_state* st = (progress_state*)user;
  ++st->calls;
  CHECK(gisp_progress_batches(p) > 0);
  CHECK(gisp_progress_batch(p) >= 1 && gisp_progress_batch(p) <= gisp_progress_batches(p));
  return gisp_progress_step(p) < st->cancel_at_step;
}

static void test_status_and_version(void) {
  CHECK(strcmp(gisp_version_string(), "0.1.0") == 0);
  CHECK(gisp_abi_version() == GISP_ABI_VERSION);
  CHECK(gisp_status_code(NULL) == GISP_OK);
  CHECK(strcmp(gisp_status_message(NULL), "") == 0);
  gisp_status_free(NULL);
  gisp_model_free(NULL);
  gisp_record_free(NULL);
  gisp_pruner_free(NULL);
  gisp_calibration_free(NULL);
  gisp_prune_config_free(NULL);
  gisp_string_free(NULL);
  CHECK(strcmp(gisp_code_name(GISP_CANCELLED), "cancelled") == 0);
}

/* One spelling per option value, from the library. */
static void test_names(void) {
  CHECK(strcmp(gisp_objective_name(GISP_OBJECTIVE_ANSWER_ONLY), "answer-only") == 0);
  CHECK(strcmp(gisp_normalization_name(GISP_NORMALIZATION_NONE), "none") == 0);
  CHECK(strcmp(gisp_gqa_unit_name(GISP_GQA_UNIT_KV_GROUP), "kv-group") == 0);
  CHECK(gisp_objective_name((gisp_objective)7) == NULL);
  gisp_objective objective = GISP_OBJECTIVE_LM;
  ok(gisp_objective_from_name("margin", &objective), "objective from name");
  CHECK(objective == GISP_OBJECTIVE_MARGIN);
  gisp_normalization normalization = GISP_NORMALIZATION_REFERENCE;
  ok(gisp_normalization_from_name("paper", &normalization), "normalization from name");
  CHECK(normalization == GISP_NORMALIZATION_PAPER);
  gisp_gqa_unit unit = GISP_GQA_UNIT_QUERY_HEAD;
  fails(gisp_gqa_unit_from_name("kv_group", &unit), GISP_INVALID_ARGUMENT,
        "GQA unit must be query-head or kv-group, got \"kv_group\"", "misspelled GQA unit");
  CHECK(unit == GISP_GQA_UNIT_QUERY_HEAD);
}

static void test_errors(void) {
  gisp_model* m = NULL;
  fails(gisp_model_load("/nonexistent/model", GISP_DEVICE_CPU, 0, &m), GISP_NOT_FOUND,
        "/nonexistent/model", "load missing dir");
  CHECK(m == NULL); /* out-parameters untouched on error */
  fails(gisp_model_load(NULL, GISP_DEVICE_CPU, 0, &m), GISP_INVALID_ARGUMENT, "model_dir",
        "NULL argument");
  gisp_prune_config* c = NULL;
  ok(gisp_prune_config_create(&c), "config create");
  fails(gisp_prune_config_set_ratio(c, 1.5), GISP_INVALID_ARGUMENT, "ratio", "ratio 1.5");
  fails(gisp_prune_config_set_steps(c, 0), GISP_INVALID_ARGUMENT, "steps", "steps 0");
  fails(gisp_prune_config_set_gqa_unit(c, (gisp_gqa_unit)7), GISP_INVALID_ARGUMENT, "GQA unit",
        "gqa unit 7");
  gisp_prune_config_free(c);
}

/* Token-level calibration on a PyTorch fixture (no tokenizer needed). */
static void test_prune_with_tokens(void) {
  gisp_model* m = NULL;
  ok(gisp_model_load("testdata/llama/llama3_gqa_headdim_f32", GISP_DEVICE_CPU, 0, &m), "load");
  if (m == NULL) return;
  int64_t layers = 0, vocab = 0, params_before = 0;
  ok(gisp_model_get_int(m, GISP_MODEL_NUM_LAYERS, &layers), "layers");
  ok(gisp_model_get_int(m, GISP_MODEL_VOCAB_SIZE, &vocab), "vocab");
  ok(gisp_model_get_int(m, GISP_MODEL_TOTAL_PARAMETERS, &params_before), "params");
  CHECK(layers == 2 && vocab == 101);

  enum { kSeqs = 4, kLen = 12 };
  int32_t storage[kSeqs][kLen];
  const int32_t* tokens[kSeqs];
  size_t lengths[kSeqs];
  for (int i = 0; i < kSeqs; ++i) {
    for (int t = 0; t < kLen; ++t) storage[i][t] = (int32_t)((i * 37 + t * 11) % vocab);
    tokens[i] = storage[i];
    lengths[i] = kLen;
  }
  gisp_calibration* data = NULL;
  ok(gisp_calibration_from_tokens(kSeqs, tokens, lengths, NULL, NULL, &data), "from tokens");
  CHECK(gisp_calibration_num_sequences(data) == kSeqs);

  gisp_prune_config* c = NULL;
  ok(gisp_prune_config_create(&c), "config");
  ok(gisp_prune_config_set_steps(c, 4), "steps");
  ok(gisp_prune_config_set_ratio(c, 0.3), "ratio");
  ok(gisp_prune_config_set_protect_first_fraction(c, 0.0), "protect first");
  ok(gisp_prune_config_set_protect_last(c, false), "protect last");
  char* json = NULL;
  ok(gisp_prune_config_to_json(c, &json), "config json");
  CHECK(json != NULL && strstr(json, "\"steps\": 4") != NULL);
  gisp_string_free(json);

  /* Before the run: the dense model's own sparsity (its norm weights) and the bound a run at
   * ratio 0.3 can reach. */
  double dense = -1, reachable = -1;
  ok(gisp_prune_config_sparsity_range(c, m, &dense, &reachable), "sparsity range");
  CHECK(dense > 0 && dense < 0.1 && reachable > dense && reachable < 1);

  gisp_pruner* p = NULL;
  ok(gisp_pruner_create(m, data, c, NULL, &p), "pruner create");
  if (p == NULL) return;
  fails(gisp_prune_config_sparsity_range(c, m, &dense, NULL), GISP_FAILED_PRECONDITION,
        "no pruner has pruned", "sparsity range of a model being pruned");
  progress_state st = {0, 2};
  gisp_pruner_set_progress_callback(p, on_progress, &st);
  fails(gisp_pruner_run(p), GISP_CANCELLED, "cancel", "cancelled run");
  CHECK(gisp_pruner_next_step(p) == 2);
  CHECK(st.calls > 0);

  /* The partial record is valid and resumable. */
  gisp_record* partial = NULL;
  ok(gisp_pruner_record(p, &partial), "partial record");
  CHECK(gisp_record_num_steps(partial) == 2);
  CHECK(!gisp_record_complete(partial));
  st.cancel_at_step = 1000;
  ok(gisp_pruner_run(p), "run to the end");
  CHECK(gisp_pruner_done(p));
  gisp_record* record = NULL;
  ok(gisp_pruner_record(p, &record), "record");
  CHECK(gisp_record_complete(record));
  const int32_t steps = gisp_record_num_steps(record);
  const int64_t units = gisp_record_num_units(record);
  CHECK(steps == 4 && units > 0);
  double sparsity[4];
  int32_t* unit_steps = (int32_t*)malloc(sizeof(int32_t) * (size_t)units);
  ok(gisp_record_step_sparsity(record, sparsity, 4), "sparsity");
  fails(gisp_record_step_sparsity(record, sparsity, 3), GISP_INVALID_ARGUMENT, "capacity",
        "small capacity");
  ok(gisp_record_unit_steps(record, unit_steps, (size_t)units), "unit steps");
  CHECK(sparsity[3] > sparsity[0] && sparsity[3] < 1.0);
  CHECK(sparsity[0] > dense && sparsity[3] <= reachable);
  /* Timings: a JSON array (as in 0.1.0) of StepTiming, one entry per step this pruner ran. */
  ok(gisp_pruner_timings_json(p, &json), "timings");
  CHECK(json != NULL && strncmp(json, "[{", 2) == 0 && json[strlen(json) - 1] == ']' &&
        strstr(json, "\"step\": 3,") != NULL && strstr(json, "\"gradient_seconds\": ") != NULL);
  gisp_string_free(json);
  int pruned = 0;
  for (int64_t u = 0; u < units; ++u) pruned += unit_steps[u] >= 0;
  CHECK(pruned > 0);
  double* scores = (double*)malloc(sizeof(double) * (size_t)units);
  size_t count = 0;
  ok(gisp_pruner_scores(p, scores, (size_t)units, &count), "scores");
  CHECK(count == (size_t)units);
  free(scores);

  /* Bytes and JSON round trips. */
  uint8_t* bytes = NULL;
  size_t size = 0;
  ok(gisp_record_to_bytes(record, &bytes, &size), "to bytes");
  gisp_record* copy = NULL;
  ok(gisp_record_from_bytes(bytes, size, &copy), "from bytes");
  CHECK(gisp_record_num_steps(copy) == steps);
  fails(gisp_record_from_bytes(bytes, size / 2, &copy), GISP_INVALID_ARGUMENT, "record",
        "truncated record");
  gisp_buffer_free(bytes);
  ok(gisp_record_to_json(record, &json), "json");
  CHECK(json != NULL && strstr(json, "pruned_at_step") != NULL);
  gisp_string_free(json);
  const char* tmp = getenv("TEST_TMPDIR");
  char path[4096];
  snprintf(path, sizeof(path), "%s/record.json", tmp ? tmp : "/tmp");
  ok(gisp_record_save(record, path), "save json");
  gisp_record* loaded = NULL;
  ok(gisp_record_load(path, &loaded), "load json");
  CHECK(gisp_record_num_units(loaded) == units);

  /* Materialize the last step, export it, load it back. */
  int32_t nearest = -1;
  ok(gisp_record_nearest_step(record, sparsity[3], &nearest), "nearest");
  CHECK(nearest == 3);
  fails(gisp_record_nearest_step(record, 0.95, &nearest), GISP_OUT_OF_RANGE, "above",
        "unreachable target");
  gisp_model* sub = NULL;
  ok(gisp_model_materialize(m, record, 3, &sub), "materialize");
  int64_t params_after = 0;
  ok(gisp_model_get_int(sub, GISP_MODEL_TOTAL_PARAMETERS, &params_after), "params after");
  CHECK(params_after < params_before);
  snprintf(path, sizeof(path), "%s/exported", tmp ? tmp : "/tmp");
  ok(gisp_model_export(sub, path, GISP_DTYPE_AUTO), "export");
  fails(gisp_model_export(m, path, GISP_DTYPE_F32), GISP_FAILED_PRECONDITION, "materialize",
        "export a model pruned in place");
  gisp_model* back = NULL;
  ok(gisp_model_load(path, GISP_DEVICE_CPU, 0, &back), "load exported");
  char* config = NULL;
  ok(gisp_model_config_json(back, &config), "config json");
  CHECK(config != NULL && strstr(config, "\"gisp_per_layer_config\"") != NULL);
  gisp_string_free(config);

  free(unit_steps);
  gisp_model_free(back);
  gisp_model_free(sub);
  gisp_record_free(loaded);
  gisp_record_free(copy);
  gisp_record_free(record);
  gisp_record_free(partial);
  gisp_pruner_free(p);
  gisp_prune_config_free(c);
  gisp_calibration_free(data);
  gisp_model_free(m);
}

/* The tiny model with its tokenizer: text windows, perplexity. */
static void test_text_and_eval(void) {
  gisp_model* m = NULL;
  ok(gisp_model_load("testdata/tiny/model", GISP_DEVICE_CPU, 0, &m), "load tiny");
  if (m == NULL) return;
  int32_t* ids = NULL;
  size_t n = 0;
  ok(gisp_model_tokenize(m, "In the beginning", true, &ids, &n), "tokenize");
  CHECK(n >= 2);
  gisp_tokens_free(ids);
  gisp_calibration* data = NULL;
  ok(gisp_calibration_text_windows(m, "testdata/tiny/calib.txt", 64, 8, 0, &data), "windows");
  CHECK(gisp_calibration_num_sequences(data) == 8);
  gisp_calibration* too_long = NULL;
  fails(gisp_calibration_text_windows(m, "testdata/tiny/calib.txt", 100000000, 2, 0, &too_long),
        GISP_INVALID_ARGUMENT, "max_position_embeddings", "windows longer than the positions");
  double ppl = 0;
  int64_t tokens = 0;
  ok(gisp_eval_perplexity(m, "testdata/tiny/eval.txt", 128, 8, &ppl, &tokens), "perplexity");
  CHECK(isfinite(ppl) && ppl > 1.0 && tokens == 8 * 127);
  gisp_prune_config* c = NULL;
  ok(gisp_prune_config_create(&c), "config");
  ok(gisp_prune_config_set_objective(c, GISP_OBJECTIVE_MARGIN), "objective");
  gisp_pruner* p = NULL;
  fails(gisp_pruner_create(m, data, c, NULL, &p), GISP_INVALID_ARGUMENT, "objective",
        "objective mismatch");
  CHECK(p == NULL);
  gisp_prune_config_free(c);
  gisp_calibration_free(data);
  gisp_model_free(m);
}

/* A baseline method through the C ABI: names, setters, a run with one step per target sparsity,
 * the method in the record's JSON. */
static void test_methods(void) {
  CHECK(strcmp(gisp_method_name(GISP_METHOD_WANDA_SP), "wanda-sp") == 0);
  CHECK(gisp_method_name((gisp_method)42) == NULL);
  gisp_method method = GISP_METHOD_GISP;
  ok(gisp_method_from_name("llm-pruner", &method), "method from name");
  CHECK(method == GISP_METHOD_LLM_PRUNER);
  fails(gisp_method_from_name("wanda", &method), GISP_INVALID_ARGUMENT,
        "method must be gisp, oneshot, wanda-sp, flap, llm-pruner, magnitude or random", "bad name");
  CHECK(method == GISP_METHOD_LLM_PRUNER);
  gisp_prune_config* c = NULL;
  ok(gisp_prune_config_create(&c), "config");
  fails(gisp_prune_config_set_method(c, (gisp_method)42), GISP_INVALID_ARGUMENT, "method",
        "method 42");
  const double bad[] = {0.2, 1.5};
  fails(gisp_prune_config_set_target_sparsities(c, bad, 2), GISP_INVALID_ARGUMENT,
        "target sparsities", "target 1.5");
  fails(gisp_prune_config_set_target_sparsities(c, NULL, 2), GISP_INVALID_ARGUMENT, "values",
        "NULL targets");
  ok(gisp_prune_config_set_target_sparsities(c, NULL, 0), "no targets");
  const double targets[] = {0.3, 0.1, 0.2};
  ok(gisp_prune_config_set_target_sparsities(c, targets, 3), "targets");
  ok(gisp_prune_config_set_method(c, GISP_METHOD_MAGNITUDE), "method");
  ok(gisp_prune_config_set_seed(c, 7), "seed");
  ok(gisp_prune_config_set_protect_first_fraction(c, 0.0), "protect first");
  ok(gisp_prune_config_set_protect_last(c, false), "protect last");

  gisp_model* m = NULL;
  ok(gisp_model_load("testdata/llama/llama3_gqa_headdim_f32", GISP_DEVICE_CPU, 0, &m), "load");
  if (m == NULL) return;
  enum { kSeqs = 4, kLen = 12 };
  int32_t storage[kSeqs][kLen];
  const int32_t* tokens[kSeqs];
  size_t lengths[kSeqs];
  for (int i = 0; i < kSeqs; ++i) {
    for (int t = 0; t < kLen; ++t) storage[i][t] = (int32_t)((i * 37 + t * 11) % 101);
    tokens[i] = storage[i];
    lengths[i] = kLen;
  }
  gisp_calibration* data = NULL;
  ok(gisp_calibration_from_tokens(kSeqs, tokens, lengths, NULL, NULL, &data), "from tokens");
  gisp_pruner* p = NULL;
  ok(gisp_pruner_create(m, data, c, NULL, &p), "pruner create");
  if (p != NULL) {
    ok(gisp_pruner_run(p), "run");
    gisp_record* record = NULL;
    ok(gisp_pruner_record(p, &record), "record");
    CHECK(gisp_record_num_steps(record) == 3);
    double sparsity[3] = {0, 0, 0};
    ok(gisp_record_step_sparsity(record, sparsity, 3), "sparsity");
    CHECK(fabs(sparsity[0] - 0.1) < 0.08 && fabs(sparsity[2] - 0.3) < 0.08);
    CHECK(sparsity[0] <= sparsity[1] && sparsity[1] <= sparsity[2]);
    char* json = NULL;
    ok(gisp_record_to_json(record, &json), "json");
    CHECK(json != NULL && strstr(json, "\"method\": \"METHOD_MAGNITUDE\"") != NULL);
    gisp_string_free(json);
    gisp_record_free(record);
  }
  gisp_pruner_free(p);
  gisp_calibration_free(data);
  gisp_model_free(m);
  gisp_prune_config_free(c);
}

int main(void) {
  test_status_and_version();
  test_methods();
  test_names();
  test_errors();
  test_prune_with_tokens();
  test_text_and_eval();
  return c_test_finish("C ABI");
}
