//! Raw declarations of the gisp C ABI (`c_api/gisp.h`, ABI version 1). Use the safe `gisp`
//! crate instead unless you need the raw calls. Kept by hand in step with the header; the
//! header's doc comments state ownership, lifetime and thread-safety of every function.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

pub const GISP_ABI_VERSION: u32 = 1;

#[repr(C)]
pub struct gisp_status {
    _private: [u8; 0],
}
#[repr(C)]
pub struct gisp_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct gisp_calibration {
    _private: [u8; 0],
}
#[repr(C)]
pub struct gisp_prune_config {
    _private: [u8; 0],
}
#[repr(C)]
pub struct gisp_record {
    _private: [u8; 0],
}
#[repr(C)]
pub struct gisp_pruner {
    _private: [u8; 0],
}
#[repr(C)]
pub struct gisp_progress {
    _private: [u8; 0],
}

pub type gisp_code = c_int;
pub const GISP_OK: gisp_code = 0;
pub const GISP_INVALID_ARGUMENT: gisp_code = 1;
pub const GISP_NOT_FOUND: gisp_code = 2;
pub const GISP_FAILED_PRECONDITION: gisp_code = 3;
pub const GISP_OUT_OF_RANGE: gisp_code = 4;
pub const GISP_UNIMPLEMENTED: gisp_code = 5;
pub const GISP_UNAVAILABLE: gisp_code = 6;
pub const GISP_RESOURCE_EXHAUSTED: gisp_code = 7;
pub const GISP_PERMISSION_DENIED: gisp_code = 8;
pub const GISP_CANCELLED: gisp_code = 9;
pub const GISP_INTERNAL: gisp_code = 10;
pub const GISP_DATA_LOSS: gisp_code = 11;
pub const GISP_UNKNOWN: gisp_code = 12;

pub type gisp_log_fn = Option<unsafe extern "C" fn(level: c_int, message: *const c_char, user: *mut c_void)>;
pub type gisp_progress_fn =
    Option<unsafe extern "C" fn(progress: *const gisp_progress, user: *mut c_void) -> bool>;

extern "C" {
    pub fn gisp_status_code(status: *const gisp_status) -> gisp_code;
    pub fn gisp_status_message(status: *const gisp_status) -> *const c_char;
    pub fn gisp_status_free(status: *mut gisp_status);
    pub fn gisp_code_name(code: gisp_code) -> *const c_char;
    pub fn gisp_string_free(s: *mut c_char);
    pub fn gisp_buffer_free(data: *mut u8);
    pub fn gisp_version_string() -> *const c_char;
    pub fn gisp_abi_version() -> u32;
    pub fn gisp_set_log_callback(f: gisp_log_fn, min_level: c_int, user: *mut c_void);

    pub fn gisp_model_load(dir: *const c_char, device: c_int, index: c_int, out: *mut *mut gisp_model) -> *mut gisp_status;
    pub fn gisp_model_free(model: *mut gisp_model);
    pub fn gisp_model_get_int(model: *const gisp_model, field: c_int, out: *mut i64) -> *mut gisp_status;
    pub fn gisp_model_config_json(model: *const gisp_model, json: *mut *mut c_char) -> *mut gisp_status;
    pub fn gisp_model_tokenize(model: *mut gisp_model, text: *const c_char, add_special: bool, ids: *mut *mut i32, count: *mut usize) -> *mut gisp_status;

    pub fn gisp_calibration_text_windows(model: *mut gisp_model, path: *const c_char, window: i64, count: i64, seed: u64, out: *mut *mut gisp_calibration) -> *mut gisp_status;
    pub fn gisp_calibration_qa_jsonl(model: *mut gisp_model, path: *const c_char, limit: i64, out: *mut *mut gisp_calibration) -> *mut gisp_status;
    pub fn gisp_calibration_multiple_choice_jsonl(model: *mut gisp_model, path: *const c_char, limit: i64, out: *mut *mut gisp_calibration) -> *mut gisp_status;
    pub fn gisp_calibration_from_tokens(n: usize, tokens: *const *const i32, lengths: *const usize, label_masks: *const *const u8, positive: *const u8, out: *mut *mut gisp_calibration) -> *mut gisp_status;
    pub fn gisp_calibration_num_sequences(data: *const gisp_calibration) -> usize;
    pub fn gisp_calibration_free(data: *mut gisp_calibration);

    pub fn gisp_prune_config_create(out: *mut *mut gisp_prune_config) -> *mut gisp_status;
    pub fn gisp_prune_config_free(c: *mut gisp_prune_config);
    pub fn gisp_prune_config_set_objective(c: *mut gisp_prune_config, v: c_int) -> *mut gisp_status;
    pub fn gisp_prune_config_set_ratio(c: *mut gisp_prune_config, v: f64) -> *mut gisp_status;
    pub fn gisp_prune_config_set_steps(c: *mut gisp_prune_config, v: i32) -> *mut gisp_status;
    pub fn gisp_prune_config_set_normalization(c: *mut gisp_prune_config, v: c_int) -> *mut gisp_status;
    pub fn gisp_prune_config_set_gqa_unit(c: *mut gisp_prune_config, v: c_int) -> *mut gisp_status;
    pub fn gisp_prune_config_set_round_channels_to(c: *mut gisp_prune_config, v: i32) -> *mut gisp_status;
    pub fn gisp_prune_config_set_protect_first_fraction(c: *mut gisp_prune_config, v: f64) -> *mut gisp_status;
    pub fn gisp_prune_config_set_protect_last(c: *mut gisp_prune_config, v: bool) -> *mut gisp_status;
    pub fn gisp_prune_config_set_batch_size(c: *mut gisp_prune_config, v: i32) -> *mut gisp_status;
    pub fn gisp_prune_config_set_compact(c: *mut gisp_prune_config, v: bool) -> *mut gisp_status;
    pub fn gisp_prune_config_to_json(c: *const gisp_prune_config, json: *mut *mut c_char) -> *mut gisp_status;

    pub fn gisp_record_load(path: *const c_char, out: *mut *mut gisp_record) -> *mut gisp_status;
    pub fn gisp_record_save(r: *const gisp_record, path: *const c_char) -> *mut gisp_status;
    pub fn gisp_record_to_json(r: *const gisp_record, json: *mut *mut c_char) -> *mut gisp_status;
    pub fn gisp_record_to_bytes(r: *const gisp_record, data: *mut *mut u8, size: *mut usize) -> *mut gisp_status;
    pub fn gisp_record_from_bytes(data: *const u8, size: usize, out: *mut *mut gisp_record) -> *mut gisp_status;
    pub fn gisp_record_free(r: *mut gisp_record);
    pub fn gisp_record_num_steps(r: *const gisp_record) -> i32;
    pub fn gisp_record_num_units(r: *const gisp_record) -> i64;
    pub fn gisp_record_complete(r: *const gisp_record) -> bool;
    pub fn gisp_record_unit_steps(r: *const gisp_record, out: *mut i32, capacity: usize) -> *mut gisp_status;
    pub fn gisp_record_step_sparsity(r: *const gisp_record, out: *mut f64, capacity: usize) -> *mut gisp_status;
    pub fn gisp_record_step_loss(r: *const gisp_record, out: *mut f64, capacity: usize) -> *mut gisp_status;
    pub fn gisp_record_nearest_step(r: *const gisp_record, target: f64, step: *mut i32) -> *mut gisp_status;

    pub fn gisp_progress_step(p: *const gisp_progress) -> i32;
    pub fn gisp_progress_steps(p: *const gisp_progress) -> i32;
    pub fn gisp_progress_batch(p: *const gisp_progress) -> i64;
    pub fn gisp_progress_batches(p: *const gisp_progress) -> i64;
    pub fn gisp_progress_elapsed_seconds(p: *const gisp_progress) -> f64;
    pub fn gisp_progress_eta_seconds(p: *const gisp_progress) -> f64;
    pub fn gisp_progress_sparsity(p: *const gisp_progress) -> f64;
    pub fn gisp_progress_loss(p: *const gisp_progress) -> f64;

    pub fn gisp_pruner_create(model: *mut gisp_model, data: *const gisp_calibration, config: *const gisp_prune_config, resume: *const gisp_record, out: *mut *mut gisp_pruner) -> *mut gisp_status;
    pub fn gisp_pruner_free(p: *mut gisp_pruner);
    pub fn gisp_pruner_set_progress_callback(p: *mut gisp_pruner, f: gisp_progress_fn, user: *mut c_void);
    pub fn gisp_pruner_set_checkpoint_path(p: *mut gisp_pruner, path: *const c_char) -> *mut gisp_status;
    pub fn gisp_pruner_step(p: *mut gisp_pruner) -> *mut gisp_status;
    pub fn gisp_pruner_run(p: *mut gisp_pruner) -> *mut gisp_status;
    pub fn gisp_pruner_done(p: *const gisp_pruner) -> bool;
    pub fn gisp_pruner_next_step(p: *const gisp_pruner) -> i32;
    pub fn gisp_pruner_total_steps(p: *const gisp_pruner) -> i32;
    pub fn gisp_pruner_record(p: *const gisp_pruner, out: *mut *mut gisp_record) -> *mut gisp_status;
    pub fn gisp_pruner_scores(p: *const gisp_pruner, out: *mut f64, capacity: usize, count: *mut usize) -> *mut gisp_status;
    pub fn gisp_pruner_timings_json(p: *const gisp_pruner, json: *mut *mut c_char) -> *mut gisp_status;

    pub fn gisp_model_materialize(model: *const gisp_model, record: *const gisp_record, step: i32, out: *mut *mut gisp_model) -> *mut gisp_status;
    pub fn gisp_model_export(model: *const gisp_model, dir: *const c_char, dtype: c_int) -> *mut gisp_status;
    pub fn gisp_model_export_format(model: *const gisp_model, format: c_int, dir: *const c_char, dtype: c_int, parameters: *mut i64, exact_parameters: *mut i64) -> *mut gisp_status;
    pub fn gisp_eval_perplexity(model: *mut gisp_model, path: *const c_char, chunk: i64, max_chunks: i64, ppl: *mut f64, tokens: *mut i64) -> *mut gisp_status;
    pub fn gisp_eval_multiple_choice(model: *mut gisp_model, path: *const c_char, limit: i64, acc: *mut f64, acc_norm: *mut f64) -> *mut gisp_status;
}
