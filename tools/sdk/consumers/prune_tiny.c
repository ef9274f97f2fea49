/* A program built outside gisp's repository against the installed SDK (<gisp/gisp.h> and
 * libgisp.so, found by CMake's find_package(gisp) or by pkg-config): prunes the tiny model that
 * the SDK ships in share/gisp/tiny and saves the record.
 *
 *   prune_tiny MODEL_DIR CALIB_TEXT RECORD_OUT
 *
 * The settings are the bindings' parity configuration (tools/ci/cli_reference_record.sh: 8
 * windows of 64 tokens, seed 0, ratio 0.5, 3 steps, batch size 4), so the record must equal,
 * byte for byte, the one the CLI and every binding write. */
#include <gisp/gisp.h>
#include <stdio.h>

/* Prints the error, frees it, and tells the caller to stop. */
static int failed(gisp_status* s) {
  if (s == NULL) return 0;
  fprintf(stderr, "gisp error [%s]: %s\n", gisp_code_name(gisp_status_code(s)),
          gisp_status_message(s));
  gisp_status_free(s);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL_DIR CALIB_TEXT RECORD_OUT\n", argv[0]);
    return 2;
  }
  gisp_model* model = NULL;
  gisp_calibration* data = NULL;
  gisp_prune_config* config = NULL;
  gisp_pruner* pruner = NULL;
  gisp_record* record = NULL;
  double sparsity[3] = {0};
  int rc = 1;

  if (gisp_abi_version() != GISP_ABI_VERSION) {
    fprintf(stderr, "libgisp ABI %u, header ABI %d\n", gisp_abi_version(), GISP_ABI_VERSION);
    return 1;
  }
  if (failed(gisp_model_load(argv[1], GISP_DEVICE_CPU, 0, &model))) goto done;
  if (failed(gisp_calibration_text_windows(model, argv[2], 64, 8, /*seed=*/0, &data))) goto done;
  if (failed(gisp_prune_config_create(&config))) goto done;
  if (failed(gisp_prune_config_set_ratio(config, 0.5))) goto done;
  if (failed(gisp_prune_config_set_steps(config, 3))) goto done;
  if (failed(gisp_prune_config_set_batch_size(config, 4))) goto done;
  if (failed(gisp_pruner_create(model, data, config, NULL, &pruner))) goto done;
  if (failed(gisp_pruner_run(pruner))) goto done;
  if (failed(gisp_pruner_record(pruner, &record))) goto done;
  if (failed(gisp_record_step_sparsity(record, sparsity, 3))) goto done;
  if (failed(gisp_record_save(record, argv[3]))) goto done;
  printf("gisp %s: %d steps, sparsity %.4f, record %s\n", gisp_version_string(),
         gisp_record_num_steps(record), sparsity[2], argv[3]);
  rc = 0;

done:
  gisp_record_free(record); /* every _free accepts NULL */
  gisp_pruner_free(pruner);
  gisp_prune_config_free(config);
  gisp_calibration_free(data);
  gisp_model_free(model);
  return rc;
}
