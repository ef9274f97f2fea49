/* A complete C program using libgisp: prune a model, then export the subnetwork nearest to a
 * target sparsity. Build: bazel build //c_api/examples:prune_example
 * Run:   bazel-bin/c_api/examples/prune_example MODEL_DIR CALIB_TEXT OUT_DIR [target] */
#include <stdio.h>
#include <stdlib.h>

#include "c_api/gisp.h"

/* Prints the error, frees it, and tells the caller to stop. */
static int failed(gisp_status* s) {
  if (s == NULL) return 0;
  fprintf(stderr, "gisp error [%s]: %s\n", gisp_code_name(gisp_status_code(s)),
          gisp_status_message(s));
  gisp_status_free(s);
  return 1;
}

static bool on_progress(const gisp_progress* p, void* user_data) {
  (void)user_data;
  if (gisp_progress_batch(p) == gisp_progress_batches(p)) {
    fprintf(stderr, "step %d/%d  sparsity %.1f%%  ETA %.0f s\n", gisp_progress_step(p) + 1,
            gisp_progress_steps(p), 100 * gisp_progress_sparsity(p), gisp_progress_eta_seconds(p));
  }
  return true; /* false would cancel */
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL_DIR CALIB_TEXT OUT_DIR [target]\n", argv[0]);
    return 2;
  }
  const double target = argc > 4 ? atof(argv[4]) : 0.3;
  gisp_model* model = NULL;
  gisp_calibration* data = NULL;
  gisp_prune_config* config = NULL;
  gisp_pruner* pruner = NULL;
  gisp_record* record = NULL;
  gisp_model* small = NULL;
  int32_t step = 0;
  int rc = 1;

  if (gisp_abi_version() != GISP_ABI_VERSION) goto done;
  if (failed(gisp_model_load(argv[1], GISP_DEVICE_CPU, 0, &model))) goto done;
  if (failed(gisp_calibration_text_windows(model, argv[2], 128, 32, /*seed=*/0, &data))) goto done;
  if (failed(gisp_prune_config_create(&config))) goto done;
  if (failed(gisp_prune_config_set_ratio(config, 0.5))) goto done;
  if (failed(gisp_prune_config_set_steps(config, 8))) goto done;
  if (failed(gisp_prune_config_set_batch_size(config, 8))) goto done;
  if (failed(gisp_pruner_create(model, data, config, NULL, &pruner))) goto done;
  gisp_pruner_set_progress_callback(pruner, on_progress, NULL);
  if (failed(gisp_pruner_run(pruner))) goto done;
  if (failed(gisp_pruner_record(pruner, &record))) goto done;
  if (failed(gisp_record_nearest_step(record, target, &step))) goto done;
  if (failed(gisp_model_materialize(model, record, step, &small))) goto done;
  if (failed(gisp_model_export(small, argv[3], GISP_DTYPE_AUTO))) goto done;
  printf("exported step %d to %s\n", step, argv[3]);
  rc = 0;

done:
  gisp_model_free(small); /* every _free accepts NULL */
  gisp_record_free(record);
  gisp_pruner_free(pruner);
  gisp_prune_config_free(config);
  gisp_calibration_free(data);
  gisp_model_free(model);
  return rc;
}
