//! Safe bindings for gisp, a native library that prunes Llama-family language models with
//! Global Iterative Structured Pruning (GISP).
//!
//! ```no_run
//! use gisp::{Calibration, Model, PruneConfig, Pruner};
//! let mut model = Model::load("llama-2-7b", gisp::Device::Cpu)?;
//! let data = Calibration::text_windows(&mut model, "c4.jsonl", 256, 2000, 0)?;
//! let config = PruneConfig::new()?.ratio(0.7)?.steps(112)?;
//! let record = {
//!     let mut pruner = Pruner::new(&mut model, &data, &config, None)?;
//!     pruner.run_with(|p| { eprintln!("step {}/{}", p.step + 1, p.steps); true })?;
//!     pruner.record()?
//! };
//! let small = model.materialize(&record, record.nearest_step(0.3)?)?;
//! small.export("llama-2-7b-30", gisp::DType::Auto)?;
//! # Ok::<(), gisp::Error>(())
//! ```
//!
//! Handles own their C objects and free them on drop. Every handle may move between threads
//! (`Send`) because the C API allows any thread to use a handle, one at a time; none is `Sync`.

use gisp_sys as sys;
use std::ffi::{CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_void};
use std::path::Path;
use std::ptr;

/// Status codes of the C API (append-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    NotFound,
    FailedPrecondition,
    OutOfRange,
    Unimplemented,
    Unavailable,
    ResourceExhausted,
    PermissionDenied,
    Cancelled,
    Internal,
    DataLoss,
    Unknown,
}

impl Code {
    fn from_c(code: sys::gisp_code) -> Code {
        match code {
            sys::GISP_INVALID_ARGUMENT => Code::InvalidArgument,
            sys::GISP_NOT_FOUND => Code::NotFound,
            sys::GISP_FAILED_PRECONDITION => Code::FailedPrecondition,
            sys::GISP_OUT_OF_RANGE => Code::OutOfRange,
            sys::GISP_UNIMPLEMENTED => Code::Unimplemented,
            sys::GISP_UNAVAILABLE => Code::Unavailable,
            sys::GISP_RESOURCE_EXHAUSTED => Code::ResourceExhausted,
            sys::GISP_PERMISSION_DENIED => Code::PermissionDenied,
            sys::GISP_CANCELLED => Code::Cancelled,
            sys::GISP_INTERNAL => Code::Internal,
            sys::GISP_DATA_LOSS => Code::DataLoss,
            _ => Code::Unknown,
        }
    }
}

/// An error from gisp: the status code and a message naming the file, field or value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: Code,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:?}] {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(status: *mut sys::gisp_status) -> Result<()> {
    if status.is_null() {
        return Ok(());
    }
    // SAFETY: a non-NULL status from gisp is valid until freed, which we do last.
    unsafe {
        let code = Code::from_c(sys::gisp_status_code(status));
        let message = CStr::from_ptr(sys::gisp_status_message(status)).to_string_lossy().into_owned();
        sys::gisp_status_free(status);
        Err(Error { code, message })
    }
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error { code: Code::InvalidArgument, message: format!("{s:?} contains a NUL byte") })
}

fn cpath(p: &Path) -> Result<CString> {
    cstring(p.to_str().ok_or_else(|| Error {
        code: Code::InvalidArgument,
        message: format!("path {} is not UTF-8", p.display()),
    })?)
}

fn take_string(p: *mut c_char) -> String {
    // SAFETY: gisp returned a NUL-terminated string that we own.
    unsafe {
        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
        sys::gisp_string_free(p);
        s
    }
}

/// The library's version, e.g. "0.1.0".
pub fn version() -> String {
    // SAFETY: static storage.
    unsafe { CStr::from_ptr(sys::gisp_version_string()).to_string_lossy().into_owned() }
}

/// Fails when the loaded libgisp speaks another ABI than this crate.
pub fn check_abi() -> Result<()> {
    // SAFETY: no arguments.
    let abi = unsafe { sys::gisp_abi_version() };
    if abi != sys::GISP_ABI_VERSION {
        return Err(Error {
            code: Code::FailedPrecondition,
            message: format!("libgisp ABI {abi}, this crate needs {}", sys::GISP_ABI_VERSION),
        });
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32 = 0,
    BF16 = 1,
    F16 = 2,
    Auto = 100,
}

/// Deployment formats (docs/deploy.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// gisp's exact format; gisp loads it.
    Sliced = 0,
    /// Uniform HF checkpoint of the source family (every runtime).
    Llama = 1,
    /// llama.cpp.
    Gguf = 2,
    /// DeciLM / Nemotron-NAS (vLLM, TensorRT-LLM).
    DeciLm = 3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Lm = 0,
    AnswerOnly = 1,
    Margin = 2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalization {
    Reference = 0,
    Paper = 1,
    None = 2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GqaUnit {
    QueryHead = 0,
    KvGroup = 1,
}

/// An HF Llama-family model: memory-mapped weights plus a working copy on a device.
pub struct Model {
    raw: *mut sys::gisp_model,
}

// SAFETY: the C API lets any thread use a model, one thread at a time.
unsafe impl Send for Model {}

impl Model {
    pub fn load(dir: impl AsRef<Path>, device: Device) -> Result<Model> {
        check_abi()?;
        let dir = cpath(dir.as_ref())?;
        let (kind, index) = match device {
            Device::Cpu => (0, 0),
            Device::Cuda(i) => (1, i),
        };
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string and out-pointer.
        check(unsafe { sys::gisp_model_load(dir.as_ptr(), kind, index, &mut raw) })?;
        Ok(Model { raw })
    }

    fn get(&self, field: i32) -> i64 {
        let mut v = 0i64;
        // SAFETY: valid handle; every field value we pass is declared in the header.
        let _ = check(unsafe { sys::gisp_model_get_int(self.raw, field, &mut v) });
        v
    }
    pub fn vocab_size(&self) -> i64 { self.get(0) }
    pub fn hidden_size(&self) -> i64 { self.get(1) }
    pub fn num_layers(&self) -> i64 { self.get(2) }
    pub fn num_heads(&self) -> i64 { self.get(3) }
    pub fn num_kv_heads(&self) -> i64 { self.get(4) }
    pub fn head_dim(&self) -> i64 { self.get(5) }
    pub fn intermediate_size(&self) -> i64 { self.get(6) }
    /// Total parameters at the current (possibly pruned) widths.
    pub fn total_parameters(&self) -> i64 { self.get(7) }
    pub fn decoder_parameters(&self) -> i64 { self.get(8) }

    /// config.json as gisp writes it (with gisp_per_layer_config when pruned).
    pub fn config_json(&self) -> Result<String> {
        let mut p = ptr::null_mut();
        // SAFETY: valid handle and out-pointer.
        check(unsafe { sys::gisp_model_config_json(self.raw, &mut p) })?;
        Ok(take_string(p))
    }

    pub fn tokenize(&mut self, text: &str, add_special_tokens: bool) -> Result<Vec<i32>> {
        let text = cstring(text)?;
        let mut ids = ptr::null_mut();
        let mut n = 0usize;
        // SAFETY: valid handle, C string and out-pointers; the buffer is freed below.
        check(unsafe { sys::gisp_model_tokenize(self.raw, text.as_ptr(), add_special_tokens, &mut ids, &mut n) })?;
        let out = unsafe { std::slice::from_raw_parts(ids, n).to_vec() };
        unsafe { sys::gisp_buffer_free(ids as *mut u8) };
        Ok(out)
    }

    /// The subnetwork of `record` at `step`, sliced from this original model.
    pub fn materialize(&self, record: &Record, step: i32) -> Result<Model> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid handles.
        check(unsafe { sys::gisp_model_materialize(self.raw, record.raw, step, &mut raw) })?;
        Ok(Model { raw })
    }

    pub fn export(&self, dir: impl AsRef<Path>, dtype: DType) -> Result<()> {
        let dir = cpath(dir.as_ref())?;
        // SAFETY: valid handle and C string.
        check(unsafe { sys::gisp_model_export(self.raw, dir.as_ptr(), dtype as i32) })
    }

    /// Writes the model as `format` into `dir`, a new or empty directory (all or nothing).
    /// Returns (parameters written, exact parameters of the sliced model).
    pub fn export_format(&self, dir: impl AsRef<Path>, format: ExportFormat, dtype: DType) -> Result<(i64, i64)> {
        let dir = cpath(dir.as_ref())?;
        let (mut n, mut exact) = (0i64, 0i64);
        // SAFETY: valid handle, C string and out-pointers.
        check(unsafe { sys::gisp_model_export_format(self.raw, format as i32, dir.as_ptr(), dtype as i32, &mut n, &mut exact) })?;
        Ok((n, exact))
    }

    /// (perplexity, evaluated tokens) with the paper's protocol (chunks of `chunk_tokens`).
    pub fn perplexity(&mut self, text: impl AsRef<Path>, chunk_tokens: i64, max_chunks: i64) -> Result<(f64, i64)> {
        let path = cpath(text.as_ref())?;
        let (mut ppl, mut n) = (0f64, 0i64);
        // SAFETY: valid handle, C string, out-pointers.
        check(unsafe { sys::gisp_eval_perplexity(self.raw, path.as_ptr(), chunk_tokens, max_chunks, &mut ppl, &mut n) })?;
        Ok((ppl, n))
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: we own the handle; a Pruner borrowing the model has ended (borrow checker).
        unsafe { sys::gisp_model_free(self.raw) }
    }
}

/// Calibration sequences.
pub struct Calibration {
    raw: *mut sys::gisp_calibration,
}

// SAFETY: any thread may use a calibration set, one at a time.
unsafe impl Send for Calibration {}

impl Calibration {
    /// Random windows of `window_tokens` tokens from a text or JSONL file (objective lm).
    pub fn text_windows(model: &mut Model, path: impl AsRef<Path>, window_tokens: i64, count: i64, seed: u64) -> Result<Calibration> {
        let path = cpath(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid handle and C string.
        check(unsafe { sys::gisp_calibration_text_windows(model.raw, path.as_ptr(), window_tokens, count, seed, &mut raw) })?;
        Ok(Calibration { raw })
    }

    /// {"question","answer"} JSONL (objective answer-only).
    pub fn qa_jsonl(model: &mut Model, path: impl AsRef<Path>, limit: i64) -> Result<Calibration> {
        let path = cpath(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: as above.
        check(unsafe { sys::gisp_calibration_qa_jsonl(model.raw, path.as_ptr(), limit, &mut raw) })?;
        Ok(Calibration { raw })
    }

    /// {"context","choices","label"} JSONL (objective margin).
    pub fn multiple_choice_jsonl(model: &mut Model, path: impl AsRef<Path>, limit: i64) -> Result<Calibration> {
        let path = cpath(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: as above.
        check(unsafe { sys::gisp_calibration_multiple_choice_jsonl(model.raw, path.as_ptr(), limit, &mut raw) })?;
        Ok(Calibration { raw })
    }

    /// Token sequences; `label_masks[i][t] = 1` where token t's prediction carries loss (None:
    /// every token after the first); `positive` marks correct candidates (margin).
    pub fn from_tokens(sequences: &[Vec<i32>], label_masks: Option<&[Vec<u8>]>, positive: Option<&[u8]>) -> Result<Calibration> {
        let ptrs: Vec<*const i32> = sequences.iter().map(|s| s.as_ptr()).collect();
        let lengths: Vec<usize> = sequences.iter().map(|s| s.len()).collect();
        let masks: Option<Vec<*const u8>> = label_masks.map(|m| m.iter().map(|v| v.as_ptr()).collect());
        if let Some(m) = label_masks {
            if m.len() != sequences.len() || m.iter().zip(sequences).any(|(a, b)| a.len() != b.len()) {
                return Err(Error { code: Code::InvalidArgument, message: "label_masks must match the sequences' shapes".into() });
            }
        }
        if let Some(p) = positive {
            if p.len() != sequences.len() {
                return Err(Error { code: Code::InvalidArgument, message: "positive must have one entry per sequence".into() });
            }
        }
        let mut raw = ptr::null_mut();
        // SAFETY: every pointer is valid for the lengths given; gisp copies the data.
        check(unsafe {
            sys::gisp_calibration_from_tokens(
                sequences.len(),
                ptrs.as_ptr(),
                lengths.as_ptr(),
                masks.as_ref().map_or(ptr::null(), |m| m.as_ptr()),
                positive.map_or(ptr::null(), |p| p.as_ptr()),
                &mut raw,
            )
        })?;
        Ok(Calibration { raw })
    }

    pub fn len(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::gisp_calibration_num_sequences(self.raw) }
    }

    pub fn is_empty(&self) -> bool { self.len() == 0 }
}

impl Drop for Calibration {
    fn drop(&mut self) {
        // SAFETY: we own the handle; pruners borrowing it have ended.
        unsafe { sys::gisp_calibration_free(self.raw) }
    }
}

/// Pruning options; `new()` gives the GISP authors' defaults. Setters validate and chain.
pub struct PruneConfig {
    raw: *mut sys::gisp_prune_config,
}

// SAFETY: any thread may use a config, one at a time.
unsafe impl Send for PruneConfig {}

macro_rules! setter {
    ($name:ident, $ty:ty, $c:ident, $conv:expr) => {
        pub fn $name(self, v: $ty) -> Result<Self> {
            // SAFETY: valid handle.
            check(unsafe { sys::$c(self.raw, $conv(v)) })?;
            Ok(self)
        }
    };
}

impl PruneConfig {
    pub fn new() -> Result<PruneConfig> {
        check_abi()?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::gisp_prune_config_create(&mut raw) })?;
        Ok(PruneConfig { raw })
    }
    setter!(objective, Objective, gisp_prune_config_set_objective, |v: Objective| v as i32);
    setter!(ratio, f64, gisp_prune_config_set_ratio, |v| v);
    setter!(steps, i32, gisp_prune_config_set_steps, |v| v);
    setter!(normalization, Normalization, gisp_prune_config_set_normalization, |v: Normalization| v as i32);
    setter!(gqa_unit, GqaUnit, gisp_prune_config_set_gqa_unit, |v: GqaUnit| v as i32);
    setter!(round_channels_to, i32, gisp_prune_config_set_round_channels_to, |v| v);
    setter!(protect_first_fraction, f64, gisp_prune_config_set_protect_first_fraction, |v| v);
    setter!(protect_last, bool, gisp_prune_config_set_protect_last, |v| v);
    setter!(batch_size, i32, gisp_prune_config_set_batch_size, |v| v);
    setter!(compact, bool, gisp_prune_config_set_compact, |v| v);

    pub fn to_json(&self) -> Result<String> {
        let mut p = ptr::null_mut();
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_prune_config_to_json(self.raw, &mut p) })?;
        Ok(take_string(p))
    }
}

impl Drop for PruneConfig {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::gisp_prune_config_free(self.raw) }
    }
}

/// The record of a run: per-unit pruning steps, per-step sparsity and loss.
pub struct Record {
    raw: *mut sys::gisp_record,
}

// SAFETY: any thread may use a record, one at a time.
unsafe impl Send for Record {}

impl Record {
    pub fn load(path: impl AsRef<Path>) -> Result<Record> {
        let path = cpath(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string.
        check(unsafe { sys::gisp_record_load(path.as_ptr(), &mut raw) })?;
        Ok(Record { raw })
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Record> {
        let mut raw = ptr::null_mut();
        // SAFETY: the slice is valid for its length.
        check(unsafe { sys::gisp_record_from_bytes(bytes.as_ptr(), bytes.len(), &mut raw) })?;
        Ok(Record { raw })
    }

    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = cpath(path.as_ref())?;
        // SAFETY: valid handle and C string.
        check(unsafe { sys::gisp_record_save(self.raw, path.as_ptr()) })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut p = ptr::null_mut();
        let mut n = 0usize;
        // SAFETY: valid handle; we copy then free the buffer.
        check(unsafe { sys::gisp_record_to_bytes(self.raw, &mut p, &mut n) })?;
        let out = unsafe { std::slice::from_raw_parts(p, n).to_vec() };
        unsafe { sys::gisp_buffer_free(p) };
        Ok(out)
    }

    pub fn to_json(&self) -> Result<String> {
        let mut p = ptr::null_mut();
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_record_to_json(self.raw, &mut p) })?;
        Ok(take_string(p))
    }

    pub fn num_steps(&self) -> i32 {
        // SAFETY: valid handle.
        unsafe { sys::gisp_record_num_steps(self.raw) }
    }
    pub fn num_units(&self) -> i64 {
        // SAFETY: valid handle.
        unsafe { sys::gisp_record_num_units(self.raw) }
    }
    pub fn complete(&self) -> bool {
        // SAFETY: valid handle.
        unsafe { sys::gisp_record_complete(self.raw) }
    }

    /// Per unit, the step that pruned it, or -1.
    pub fn unit_steps(&self) -> Result<Vec<i32>> {
        let mut out = vec![0i32; self.num_units() as usize];
        // SAFETY: the buffer holds num_units entries.
        check(unsafe { sys::gisp_record_unit_steps(self.raw, out.as_mut_ptr(), out.len()) })?;
        Ok(out)
    }

    pub fn step_sparsity(&self) -> Result<Vec<f64>> {
        let mut out = vec![0f64; self.num_steps() as usize];
        // SAFETY: the buffer holds num_steps entries.
        check(unsafe { sys::gisp_record_step_sparsity(self.raw, out.as_mut_ptr(), out.len()) })?;
        Ok(out)
    }

    pub fn step_loss(&self) -> Result<Vec<f64>> {
        let mut out = vec![0f64; self.num_steps() as usize];
        // SAFETY: the buffer holds num_steps entries.
        check(unsafe { sys::gisp_record_step_loss(self.raw, out.as_mut_ptr(), out.len()) })?;
        Ok(out)
    }

    pub fn nearest_step(&self, target_sparsity: f64) -> Result<i32> {
        let mut step = 0i32;
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_record_nearest_step(self.raw, target_sparsity, &mut step) })?;
        Ok(step)
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::gisp_record_free(self.raw) }
    }
}

/// A snapshot of a running pruner.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub step: i32,
    pub steps: i32,
    pub batch: i64,
    pub batches: i64,
    pub elapsed_seconds: f64,
    pub eta_seconds: f64,
    pub sparsity: f64,
    pub loss: f64,
}

/// Prunes a model in place. Borrows the model mutably and the calibration set for its lifetime,
/// which is what the C API requires of them.
pub struct Pruner<'a> {
    raw: *mut sys::gisp_pruner,
    _borrows: PhantomData<(&'a mut Model, &'a Calibration)>,
}

type Callback<'c> = dyn FnMut(&Progress) -> bool + 'c;

unsafe extern "C" fn trampoline(p: *const sys::gisp_progress, user: *mut c_void) -> bool {
    // SAFETY: `user` is the &mut Box<Callback> installed for the duration of run/step.
    let cb = &mut *(user as *mut &mut Callback);
    let progress = Progress {
        step: sys::gisp_progress_step(p),
        steps: sys::gisp_progress_steps(p),
        batch: sys::gisp_progress_batch(p),
        batches: sys::gisp_progress_batches(p),
        elapsed_seconds: sys::gisp_progress_elapsed_seconds(p),
        eta_seconds: sys::gisp_progress_eta_seconds(p),
        sparsity: sys::gisp_progress_sparsity(p),
        loss: sys::gisp_progress_loss(p),
    };
    // A panic must not unwind through C: it cancels the run instead.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(&progress))).unwrap_or(false)
}

impl<'a> Pruner<'a> {
    /// `resume`: a record of an earlier run with the same model, data and configuration.
    pub fn new(model: &'a mut Model, data: &'a Calibration, config: &PruneConfig, resume: Option<&Record>) -> Result<Pruner<'a>> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid handles; the borrows keep model and data alive and unused elsewhere.
        check(unsafe {
            sys::gisp_pruner_create(model.raw, data.raw, config.raw, resume.map_or(ptr::null(), |r| r.raw as *const _), &mut raw)
        })?;
        Ok(Pruner { raw, _borrows: PhantomData })
    }

    /// After every completed step, write the record to `path` (JSON if it ends in ".json").
    pub fn set_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = cpath(path.as_ref())?;
        // SAFETY: valid handle and C string (gisp copies it).
        check(unsafe { sys::gisp_pruner_set_checkpoint_path(self.raw, path.as_ptr()) })
    }

    fn with_callback<F: FnMut(&Progress) -> bool>(&mut self, mut f: F, call: unsafe extern "C" fn(*mut sys::gisp_pruner) -> *mut sys::gisp_status) -> Result<()> {
        let mut cb: &mut Callback = &mut f;
        // SAFETY: `cb` outlives the call; the callback is removed before returning.
        unsafe {
            sys::gisp_pruner_set_progress_callback(self.raw, Some(trampoline), &mut cb as *mut &mut Callback as *mut c_void);
            let status = call(self.raw);
            sys::gisp_pruner_set_progress_callback(self.raw, None, ptr::null_mut());
            check(status)
        }
    }

    /// Runs all remaining steps. A cancelled run returns Err with Code::Cancelled.
    pub fn run(&mut self) -> Result<()> {
        self.run_with(|_| true)
    }

    /// Runs all remaining steps; `progress` returning false cancels (Code::Cancelled) and
    /// keeps the record of the completed steps.
    pub fn run_with<F: FnMut(&Progress) -> bool>(&mut self, progress: F) -> Result<()> {
        self.with_callback(progress, sys::gisp_pruner_run)
    }

    pub fn step(&mut self) -> Result<()> {
        self.with_callback(|_| true, sys::gisp_pruner_step)
    }

    pub fn done(&self) -> bool {
        // SAFETY: valid handle.
        unsafe { sys::gisp_pruner_done(self.raw) }
    }
    pub fn next_step(&self) -> i32 {
        // SAFETY: valid handle.
        unsafe { sys::gisp_pruner_next_step(self.raw) }
    }
    pub fn total_steps(&self) -> i32 {
        // SAFETY: valid handle.
        unsafe { sys::gisp_pruner_total_steps(self.raw) }
    }

    pub fn record(&self) -> Result<Record> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_pruner_record(self.raw, &mut raw) })?;
        Ok(Record { raw })
    }

    /// Normalized scores of the last step, in record order (inf: protected units).
    pub fn scores(&self) -> Result<Vec<f64>> {
        let n = self.record()?.num_units() as usize;
        let mut out = vec![0f64; n];
        let mut count = 0usize;
        // SAFETY: the buffer holds n entries.
        check(unsafe { sys::gisp_pruner_scores(self.raw, out.as_mut_ptr(), n, &mut count) })?;
        out.truncate(count);
        Ok(out)
    }
}

impl Drop for Pruner<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::gisp_pruner_free(self.raw) }
    }
}
