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
//! # Embedding in a service
//!
//! A [`Context`] carries what a host grants gisp: a thread budget, a memory budget, a log sink
//! and a [`CancelToken`]. A model takes a copy of it when loaded with [`LoadOptions::context`] or
//! given one with [`Model::set_context`]; calibration data built from the model and its pruner
//! then run under it too.
//!
//! ```no_run
//! use gisp::{CancelToken, Context, LoadOptions, LogLevel, Model};
//! let token = CancelToken::new()?;
//! let ctx = Context::new()?
//!     .num_threads(2)?
//!     .memory_budget(1 << 30)?
//!     .log_callback(LogLevel::Info, |level, msg| eprintln!("[{level:?}] {msg}"))?
//!     .cancel_token(&token)?;
//! let options = LoadOptions::new()?
//!     .context(&ctx)?
//!     .progress(|done, total| { eprintln!("layer {done}/{total}"); true })?;
//! let model = Model::load_with_options("llama-2-7b", &options)?;
//! // Any thread may now call token.cancel() to stop the calls running on `model`.
//! # Ok::<(), gisp::Error>(())
//! ```
//!
//! # Threads
//!
//! Handles own their C objects and free them on drop. The C API lets any thread use a handle,
//! one thread at a time, so every handle is `Send`. [`Record`] and [`Context`] are also `Sync`
//! (the C API allows concurrent reads of them and their `&self` methods only read), and
//! [`CancelToken`] is `Send + Sync` and cheap to clone: any thread may cancel. [`Model`],
//! [`Calibration`], [`PruneConfig`], [`LoadOptions`] are not `Sync`. A [`Pruner`] borrows its
//! model and calibration data, so it stays on the thread that made it; build all three on the
//! thread that runs them (see `examples/two_threads.rs`).
//!
//! Callbacks (log sinks, load progress, pruner progress) never unwind into C: a panicking
//! progress callback cancels the call, a panicking log callback loses that message.

use gisp_sys as sys;
use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr;
use std::sync::{Arc, Mutex, RwLock};

/// Status codes of the C API (append-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

    fn to_c(self) -> sys::gisp_code {
        match self {
            Code::InvalidArgument => sys::GISP_INVALID_ARGUMENT,
            Code::NotFound => sys::GISP_NOT_FOUND,
            Code::FailedPrecondition => sys::GISP_FAILED_PRECONDITION,
            Code::OutOfRange => sys::GISP_OUT_OF_RANGE,
            Code::Unimplemented => sys::GISP_UNIMPLEMENTED,
            Code::Unavailable => sys::GISP_UNAVAILABLE,
            Code::ResourceExhausted => sys::GISP_RESOURCE_EXHAUSTED,
            Code::PermissionDenied => sys::GISP_PERMISSION_DENIED,
            Code::Cancelled => sys::GISP_CANCELLED,
            Code::Internal => sys::GISP_INTERNAL,
            Code::DataLoss => sys::GISP_DATA_LOSS,
            Code::Unknown => sys::GISP_UNKNOWN,
        }
    }

    /// The library's stable lower-case name of the code, e.g. "invalid_argument".
    pub fn name(self) -> &'static str {
        // SAFETY: gisp_code_name returns a NUL-terminated string in static storage.
        unsafe {
            CStr::from_ptr(sys::gisp_code_name(self.to_c()))
                .to_str()
                .unwrap_or("unknown")
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
        let message = CStr::from_ptr(sys::gisp_status_message(status))
            .to_string_lossy()
            .into_owned();
        sys::gisp_status_free(status);
        Err(Error { code, message })
    }
}

fn invalid(message: String) -> Error {
    Error {
        code: Code::InvalidArgument,
        message,
    }
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| invalid(format!("{s:?} contains a NUL byte")))
}

fn cpath(p: &Path) -> Result<CString> {
    cstring(
        p.to_str()
            .ok_or_else(|| invalid(format!("path {} is not UTF-8", p.display())))?,
    )
}

fn take_string(p: *mut c_char) -> String {
    if p.is_null() {
        return String::new();
    }
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
    unsafe {
        CStr::from_ptr(sys::gisp_version_string())
            .to_string_lossy()
            .into_owned()
    }
}

/// The ABI version of the libgisp actually loaded.
pub fn abi_version() -> u32 {
    // SAFETY: no arguments; thread-safe.
    unsafe { sys::gisp_abi_version() }
}

/// Fails when the loaded libgisp speaks another ABI than this crate.
pub fn check_abi() -> Result<()> {
    let abi = abi_version();
    if abi != sys::GISP_ABI_VERSION {
        return Err(Error {
            code: Code::FailedPrecondition,
            message: format!(
                "libgisp ABI {abi}, this crate needs {}",
                sys::GISP_ABI_VERSION
            ),
        });
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Logging
// ------------------------------------------------------------------------------------------------

/// Severity of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}

impl LogLevel {
    fn from_c(level: sys::gisp_log_level) -> LogLevel {
        match level {
            sys::GISP_LOG_DEBUG => LogLevel::Debug,
            sys::GISP_LOG_INFO => LogLevel::Info,
            sys::GISP_LOG_WARNING => LogLevel::Warning,
            _ => LogLevel::Error,
        }
    }

    fn to_c(self) -> sys::gisp_log_level {
        self as sys::gisp_log_level
    }
}

type LogFn = dyn Fn(LogLevel, &str) + Send + Sync;
/// A log closure shared by a context and every model (and calibration set) that copied it: the
/// C side holds a pointer to the inner box, so it lives as long as any of them.
type LogSink = Arc<Box<LogFn>>;

fn log_message(f: &LogFn, level: sys::gisp_log_level, message: *const c_char) {
    if message.is_null() {
        return;
    }
    // SAFETY: gisp passes a NUL-terminated message valid during the call.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
    // A panic must not unwind through C: the message is lost instead.
    let _ = catch_unwind(AssertUnwindSafe(|| f(LogLevel::from_c(level), &text)));
}

unsafe extern "C" fn context_log_trampoline(
    level: sys::gisp_log_level,
    message: *const c_char,
    user: *mut c_void,
) {
    if user.is_null() {
        return;
    }
    // SAFETY: `user` points into a LogSink kept alive by every Rust owner of a C object using it.
    let f: &LogFn = unsafe { &**(user as *const Box<LogFn>) };
    log_message(f, level, message);
}

static GLOBAL_LOG: RwLock<Option<Box<LogFn>>> = RwLock::new(None);
static GLOBAL_LOG_SETTER: Mutex<()> = Mutex::new(());

unsafe extern "C" fn global_log_trampoline(
    level: sys::gisp_log_level,
    message: *const c_char,
    _user: *mut c_void,
) {
    let guard = GLOBAL_LOG.read().unwrap_or_else(|e| e.into_inner());
    if let Some(f) = guard.as_ref() {
        log_message(f.as_ref(), level, message);
    }
}

/// Installs the process-wide log callback (messages of calls not under a [`Context`] with its
/// own sink). Messages below `min_level` are dropped. `f` is called on the thread making the gisp
/// call, possibly on several threads at once. It must not call `set_log_callback` or
/// [`clear_log_callback`] itself.
pub fn set_log_callback<F>(min_level: LogLevel, f: F)
where
    F: Fn(LogLevel, &str) + Send + Sync + 'static,
{
    let _serial = GLOBAL_LOG_SETTER.lock().unwrap_or_else(|e| e.into_inner());
    *GLOBAL_LOG.write().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(f));
    // SAFETY: the trampoline reads the closure from GLOBAL_LOG; it needs no user data.
    unsafe {
        sys::gisp_set_log_callback(
            Some(global_log_trampoline),
            min_level.to_c(),
            ptr::null_mut(),
        )
    };
}

/// Removes the process-wide log callback (gisp's default: messages are discarded).
pub fn clear_log_callback() {
    let _serial = GLOBAL_LOG_SETTER.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: NULL is the documented "discard" value.
    unsafe { sys::gisp_set_log_callback(None, sys::GISP_LOG_ERROR, ptr::null_mut()) };
    *GLOBAL_LOG.write().unwrap_or_else(|e| e.into_inner()) = None;
}

// ------------------------------------------------------------------------------------------------
// Cancellation and contexts
// ------------------------------------------------------------------------------------------------

struct TokenHandle(*mut sys::gisp_cancel_token);

// SAFETY: the C API lets any thread use a cancel token at any time.
unsafe impl Send for TokenHandle {}
unsafe impl Sync for TokenHandle {}

impl Drop for TokenHandle {
    fn drop(&mut self) {
        // SAFETY: we own this reference; contexts holding the token keep their own.
        unsafe { sys::gisp_cancel_token_free(self.0) }
    }
}

/// A flag any thread may raise to stop the gisp calls that watch it (those on models whose
/// [`Context`] carries it). Clones share the same flag. A cancelled call returns
/// [`Code::Cancelled`] with its outputs complete or absent (a pruner's record keeps its
/// completed steps; a load returns no model).
#[derive(Clone)]
pub struct CancelToken {
    handle: Arc<TokenHandle>,
}

impl CancelToken {
    pub fn new() -> Result<CancelToken> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::gisp_cancel_token_create(&mut raw) })?;
        Ok(CancelToken {
            handle: Arc::new(TokenHandle(raw)),
        })
    }

    /// Raises the flag (lock-free; may be called repeatedly, from any thread).
    pub fn cancel(&self) {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::gisp_cancel_token_cancel(self.handle.0) }
    }

    /// Lowers the flag, so the token can serve the next job.
    pub fn reset(&self) {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::gisp_cancel_token_reset(self.handle.0) }
    }

    pub fn is_cancelled(&self) -> bool {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::gisp_cancel_token_is_cancelled(self.handle.0) }
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The resources a host grants gisp: threads, memory, a log sink and a cancel token. Models
/// copy it when given it ([`LoadOptions::context`], [`Model::set_context`]), so it may be dropped
/// after use; a log closure stays alive as long as any model (or calibration set) uses it.
pub struct Context {
    raw: *mut sys::gisp_context,
    log: Option<LogSink>,
    comm: Option<CommOps>,
}

// SAFETY: the C API lets any thread use a context, and several threads read one at once; every
// `&self` method only reads it (the setters take `self`).
unsafe impl Send for Context {}
unsafe impl Sync for Context {}

impl Context {
    /// A context with the process defaults (OpenMP's threads, automatic memory sizing, the
    /// process-wide log callback, no cancel token).
    pub fn new() -> Result<Context> {
        check_abi()?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::gisp_context_create(&mut raw) })?;
        Ok(Context {
            raw,
            log: None,
            comm: None,
        })
    }

    /// Threads gisp's calls may use, n >= 1; 0 restores the default. Results are deterministic
    /// for a given thread count on one machine.
    pub fn num_threads(self, n: i32) -> Result<Self> {
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_context_set_num_threads(self.raw, n) })?;
        Ok(self)
    }

    /// Bytes gisp may use for activations and working buffers beyond weights and gradients;
    /// 0 restores automatic sizing. Results do not depend on it.
    pub fn memory_budget(self, bytes: i64) -> Result<Self> {
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_context_set_memory_budget(self.raw, bytes) })?;
        Ok(self)
    }

    /// Sends the log messages of calls under this context (at `min_level` and above) to `f`, on
    /// the thread making the call. Models running concurrently under copies of this context may
    /// call it at once, hence `Sync`.
    pub fn log_callback<F>(mut self, min_level: LogLevel, f: F) -> Result<Self>
    where
        F: Fn(LogLevel, &str) + Send + Sync + 'static,
    {
        let sink: LogSink = Arc::new(Box::new(f));
        let user = Arc::as_ptr(&sink) as *mut c_void;
        // SAFETY: valid handle; `user` stays valid while `sink` (kept by this context and by
        // every model copying it) lives.
        check(unsafe {
            sys::gisp_context_set_log_callback(
                self.raw,
                Some(context_log_trampoline),
                min_level.to_c(),
                user,
            )
        })?;
        self.log = Some(sink);
        Ok(self)
    }

    /// Calls under this context stop when `token` is raised. The context holds its own
    /// reference to the token.
    pub fn cancel_token(self, token: &CancelToken) -> Result<Self> {
        // SAFETY: valid handles; the C context takes a reference to the token.
        check(unsafe { sys::gisp_context_set_cancel_token(self.raw, token.handle.0) })?;
        Ok(self)
    }

    /// Pruners of models under this context share their work with the other ranks of `comm`
    /// (docs/scaling.md). The context keeps its own copy.
    pub fn communicator(mut self, comm: &Communicator) -> Result<Self> {
        // SAFETY: valid handles; the context copies the communicator's settings, whose user data
        // (`comm.ops`) this context and the models copying it keep alive.
        check(unsafe { sys::gisp_context_set_communicator(self.raw, comm.raw) })?;
        self.comm = Some(comm.ops.clone());
        Ok(self)
    }

    /// The thread count calls under this context use (its setting, or the default).
    pub fn threads(&self) -> i32 {
        // SAFETY: valid handle; thread-safe.
        unsafe { sys::gisp_context_num_threads(self.raw) }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: we own the handle; models keep their own copies.
        unsafe { sys::gisp_context_free(self.raw) }
    }
}

// ------------------------------------------------------------------------------------------------
// Communicators (data-parallel pruning across processes, docs/scaling.md)
// ------------------------------------------------------------------------------------------------

/// The collective operations of a job's ranks, supplied by the host (over MPI, for instance:
/// `MPI_Allreduce` with `MPI_SUM`, `MPI_Bcast`). gisp calls them on every rank in the same order,
/// on the thread making the gisp call. `all_reduce_*` replaces `data` on every rank by the
/// element-wise sum over all ranks (the same bits on every rank); `broadcast` copies rank
/// `root`'s `data` into every other rank's. An `Err(code)` fails the gisp call with
/// [`Code::Unavailable`] naming the code (0 counts as -1).
pub trait Collectives: Send + Sync {
    fn all_reduce_f32(&self, data: &mut [f32]) -> std::result::Result<(), i32>;
    fn all_reduce_f64(&self, data: &mut [f64]) -> std::result::Result<(), i32>;
    fn broadcast(&self, data: &mut [u8], root: i32) -> std::result::Result<(), i32>;
}

/// A host's collectives shared by a communicator and every context and model that copied it:
/// the C side holds a pointer to the inner box, so it lives as long as any of them.
type CommOps = Arc<Box<dyn Collectives>>;

/// A collective's outcome as the C API's int: 0, the host's nonzero code, or -1 for a panic
/// (which must not unwind through C).
fn collective_rc(result: std::thread::Result<std::result::Result<(), i32>>) -> std::os::raw::c_int {
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(0)) | Err(_) => -1,
        Ok(Err(code)) => code,
    }
}

/// # Safety
/// `user` points into a live `CommOps`; `data` holds `count` elements (or is unused when 0).
unsafe fn collectives<'a>(user: *mut c_void) -> &'a dyn Collectives {
    // SAFETY: per the contract above.
    unsafe { &**(user as *const Box<dyn Collectives>) }
}

/// The C function gisp calls for an all-reduce of `$t`, forwarding to `Collectives::$method`.
macro_rules! all_reduce_trampoline {
    ($name:ident, $t:ty, $method:ident) => {
        unsafe extern "C" fn $name(
            data: *mut $t,
            count: usize,
            user: *mut c_void,
        ) -> std::os::raw::c_int {
            // SAFETY: gisp passes `count` valid elements and the user data of a live
            // communicator.
            let (ops, slice) = unsafe {
                let slice: &mut [$t] = if count == 0 {
                    &mut []
                } else {
                    std::slice::from_raw_parts_mut(data, count)
                };
                (collectives(user), slice)
            };
            collective_rc(catch_unwind(AssertUnwindSafe(|| ops.$method(slice))))
        }
    };
}

all_reduce_trampoline!(all_reduce_f32_trampoline, f32, all_reduce_f32);
all_reduce_trampoline!(all_reduce_f64_trampoline, f64, all_reduce_f64);

unsafe extern "C" fn broadcast_trampoline(
    data: *mut c_void,
    bytes: usize,
    root: i32,
    user: *mut c_void,
) -> std::os::raw::c_int {
    // SAFETY: gisp passes `bytes` valid bytes and the user data of a live communicator.
    let (ops, slice) = unsafe {
        let slice: &mut [u8] = if bytes == 0 {
            &mut []
        } else {
            std::slice::from_raw_parts_mut(data as *mut u8, bytes)
        };
        (collectives(user), slice)
    };
    collective_rc(catch_unwind(AssertUnwindSafe(|| {
        ops.broadcast(slice, root)
    })))
}

/// Rank `rank` of a job of `size` ranks that prune one model together (docs/scaling.md). Give
/// it to the [`Context`] of the model on every rank; every rank then loads the same model,
/// builds the same calibration data and runs the same pruner calls, which become collective.
pub struct Communicator {
    raw: *mut sys::gisp_communicator,
    ops: CommOps,
}

// SAFETY: the C object only holds settings; the collectives are `Send + Sync`.
unsafe impl Send for Communicator {}

impl Communicator {
    pub fn new<C: Collectives + 'static>(rank: i32, size: i32, ops: C) -> Result<Communicator> {
        check_abi()?;
        let ops: CommOps = Arc::new(Box::new(ops));
        let user = Arc::as_ptr(&ops) as *mut c_void;
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer; `user` stays valid while `ops` (kept by this communicator
        // and every context and model copying it) lives.
        check(unsafe { sys::gisp_communicator_create(rank, size, user, &mut raw) })?;
        let comm = Communicator { raw, ops };
        // SAFETY: valid handle and functions of the declared types.
        unsafe {
            check(sys::gisp_communicator_set_all_reduce_f32(
                comm.raw,
                Some(all_reduce_f32_trampoline),
            ))?;
            check(sys::gisp_communicator_set_all_reduce_f64(
                comm.raw,
                Some(all_reduce_f64_trampoline),
            ))?;
            check(sys::gisp_communicator_set_broadcast(
                comm.raw,
                Some(broadcast_trampoline),
            ))?;
        }
        Ok(comm)
    }

    /// Collective: every rank passes the outcome of its own setup and gets the same answer,
    /// `Ok` when every rank succeeded, else the lowest failed rank's error with its message
    /// prefixed "rank R of N: ".
    pub fn agree(&self, local: &Result<()>) -> Result<()> {
        let (code, message) = match local {
            Ok(()) => (sys::GISP_OK, None),
            Err(e) => (e.code.to_c(), Some(cstring(&e.message.replace('\0', " "))?)),
        };
        // SAFETY: valid handle; the message (or NULL) lives during the call.
        check(unsafe {
            sys::gisp_communicator_agree(
                self.raw,
                code,
                message.as_ref().map_or(ptr::null(), |m| m.as_ptr()),
            )
        })
    }
}

impl Drop for Communicator {
    fn drop(&mut self) {
        // SAFETY: we own the handle; contexts keep their own copies.
        unsafe { sys::gisp_communicator_free(self.raw) }
    }
}

/// The thread count of calls not under a context (the process's OpenMP setting).
pub fn default_num_threads() -> i32 {
    // SAFETY: NULL asks for the default; thread-safe.
    unsafe { sys::gisp_context_num_threads(ptr::null()) }
}

// ------------------------------------------------------------------------------------------------
// Models
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda(i32),
}

impl Device {
    fn to_c(self) -> (sys::gisp_device, i32) {
        match self {
            Device::Cpu => (sys::GISP_DEVICE_CPU, 0),
            Device::Cuda(i) => (sys::GISP_DEVICE_CUDA, i),
        }
    }
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

/// A pruning option that gisp also spells by name: the enum, `name()` and `from_name()`, with the
/// names from the library (`gisp_*_name`, `gisp_*_from_name`), the ones the prune CLI accepts.
macro_rules! named_option {
    ($(#[$doc:meta])* $name:ident: $cty:ident, $to_name:ident, $from_name:ident,
     { $($variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant = $value),+
        }

        impl $name {
            /// gisp's name of the value, e.g. "answer-only".
            pub fn name(self) -> &'static str {
                // SAFETY: every variant is a value of the C enum, whose names are NUL-terminated
                // strings in static storage (NULL only for values outside the enum).
                unsafe {
                    let p = sys::$to_name(self as sys::$cty);
                    if p.is_null() {
                        return "";
                    }
                    CStr::from_ptr(p).to_str().unwrap_or("")
                }
            }

            /// The value gisp names `name`; InvalidArgument naming the accepted names otherwise.
            pub fn from_name(name: &str) -> Result<Self> {
                let c = cstring(name)?;
                let mut out: sys::$cty = 0;
                // SAFETY: a NUL-terminated string and a valid out-pointer.
                check(unsafe { sys::$from_name(c.as_ptr(), &mut out) })?;
                [$($name::$variant),+]
                    .into_iter()
                    .find(|v| *v as sys::$cty == out)
                    .ok_or_else(|| invalid(format!("{name:?} is value {out}, unknown to this crate")))
            }
        }
    };
}

named_option!(
    /// What the calibration loss measures.
    Objective: gisp_objective, gisp_objective_name, gisp_objective_from_name,
    { Lm = 0, AnswerOnly = 1, Margin = 2 }
);
named_option!(
    /// How unit scores are normalized before the global ranking.
    Normalization: gisp_normalization, gisp_normalization_name, gisp_normalization_from_name,
    { Reference = 0, Paper = 1, None = 2 }
);
named_option!(
    /// The head unit under grouped-query attention.
    GqaUnit: gisp_gqa_unit, gisp_gqa_unit_name, gisp_gqa_unit_from_name,
    { QueryHead = 0, KvGroup = 1 }
);
named_option!(
    /// The pruning method (docs/baselines.md); `Flap`'s bias compensation is added to the
    /// o_proj/down_proj biases of materialized and exported subnetworks.
    Method: gisp_method, gisp_method_name, gisp_method_from_name,
    { Gisp = 0, OneShot = 1, WandaSp = 2, Flap = 3, LlmPruner = 4, Magnitude = 5, Random = 6 }
);

type LoadProgressFn = dyn FnMut(i64, i64) -> bool + Send;

unsafe extern "C" fn load_progress_trampoline(done: i64, total: i64, user: *mut c_void) -> bool {
    // SAFETY: `user` is the boxed RefCell owned by the LoadOptions passed to the load call.
    let cell = unsafe { &*(user as *const RefCell<Box<LoadProgressFn>>) };
    let Ok(mut f) = cell.try_borrow_mut() else {
        return false;
    };
    // A panic must not unwind through C: it cancels the load instead.
    catch_unwind(AssertUnwindSafe(|| f(done, total))).unwrap_or(false)
}

/// Options for [`Model::load_with_options`]. Defaults: CPU, working dtype `Auto`, no context,
/// no progress callback. Setters validate and chain.
pub struct LoadOptions {
    raw: *mut sys::gisp_load_options,
    log: Option<LogSink>,
    comm: Option<CommOps>,
    progress: Option<Box<RefCell<Box<LoadProgressFn>>>>,
}

// SAFETY: the C API lets any thread use load options, one at a time; the progress closure is
// `Send`.
unsafe impl Send for LoadOptions {}

impl LoadOptions {
    pub fn new() -> Result<LoadOptions> {
        check_abi()?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check(unsafe { sys::gisp_load_options_create(&mut raw) })?;
        Ok(LoadOptions {
            raw,
            log: None,
            comm: None,
            progress: None,
        })
    }

    pub fn device(self, device: Device) -> Result<Self> {
        let (kind, index) = device.to_c();
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_load_options_set_device(self.raw, kind, index) })?;
        Ok(self)
    }

    /// The dtype of the working copy's weights: F32, BF16/F16 where the backend computes in 16
    /// bits (CUDA; Unimplemented elsewhere), or Auto.
    pub fn working_dtype(self, dtype: DType) -> Result<Self> {
        // SAFETY: valid handle.
        check(unsafe {
            sys::gisp_load_options_set_working_dtype(self.raw, dtype as sys::gisp_dtype)
        })?;
        Ok(self)
    }

    /// Layer streaming (docs/scaling.md): keep the decoder layers and their calibration
    /// gradients in host memory and upload one layer at a time to the device, for models whose
    /// weights do not fit it. Same results; more host-to-device traffic. Default false.
    pub fn stream_layers(self, enabled: bool) -> Result<Self> {
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_load_options_set_stream_layers(self.raw, enabled) })?;
        Ok(self)
    }

    /// The context the model runs under (copied).
    pub fn context(mut self, ctx: &Context) -> Result<Self> {
        // SAFETY: valid handles; the options copy the context's settings.
        check(unsafe { sys::gisp_load_options_set_context(self.raw, ctx.raw) })?;
        self.log = ctx.log.clone();
        self.comm = ctx.comm.clone();
        Ok(self)
    }

    /// Called on the loading thread after each decoder layer is placed on the device, with the
    /// layers done and the total; returning false cancels the load ([`Code::Cancelled`]).
    pub fn progress<F>(mut self, f: F) -> Result<Self>
    where
        F: FnMut(i64, i64) -> bool + Send + 'static,
    {
        let cell: Box<RefCell<Box<LoadProgressFn>>> = Box::new(RefCell::new(Box::new(f)));
        let user = &*cell as *const RefCell<Box<LoadProgressFn>> as *mut c_void;
        // SAFETY: valid handle; `user` lives in `self.progress` as long as the options.
        check(unsafe {
            sys::gisp_load_options_set_progress_callback(
                self.raw,
                Some(load_progress_trampoline),
                user,
            )
        })?;
        self.progress = Some(cell);
        Ok(self)
    }
}

impl Drop for LoadOptions {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::gisp_load_options_free(self.raw) }
    }
}

/// An HF Llama-family model: memory-mapped weights plus a working copy on a device.
pub struct Model {
    raw: *mut sys::gisp_model,
    log: Option<LogSink>,
    comm: Option<CommOps>,
}

// SAFETY: the C API lets any thread use a model, one thread at a time.
unsafe impl Send for Model {}

impl Model {
    pub fn load(dir: impl AsRef<Path>, device: Device) -> Result<Model> {
        check_abi()?;
        let dir = cpath(dir.as_ref())?;
        let (kind, index) = device.to_c();
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string and out-pointer.
        check(unsafe { sys::gisp_model_load(dir.as_ptr(), kind, index, &mut raw) })?;
        Ok(Model {
            raw,
            log: None,
            comm: None,
        })
    }

    /// Loads with options: device, working dtype, context, progress callback.
    pub fn load_with_options(dir: impl AsRef<Path>, options: &LoadOptions) -> Result<Model> {
        let dir = cpath(dir.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string, options and out-pointer; the progress closure lives in
        // `options`, which is borrowed (and, not being Sync, unused elsewhere) during the call.
        check(unsafe { sys::gisp_model_load_with_options(dir.as_ptr(), options.raw, &mut raw) })?;
        Ok(Model {
            raw,
            log: options.log.clone(),
            comm: options.comm.clone(),
        })
    }

    /// Replaces the context this model (and calibration data built from it later, and its
    /// pruners) runs under; `None`: the process defaults.
    pub fn set_context(&mut self, ctx: Option<&Context>) -> Result<()> {
        // SAFETY: valid handles; `&mut self` keeps other calls on the model out.
        check(unsafe {
            sys::gisp_model_set_context(self.raw, ctx.map_or(ptr::null(), |c| c.raw as *const _))
        })?;
        self.log = ctx.and_then(|c| c.log.clone());
        self.comm = ctx.and_then(|c| c.comm.clone());
        Ok(())
    }

    fn get(&self, field: sys::gisp_model_field) -> i64 {
        let mut v = 0i64;
        // SAFETY: valid handle; every field value we pass is declared in the header.
        let _ = check(unsafe { sys::gisp_model_get_int(self.raw, field, &mut v) });
        v
    }
    pub fn vocab_size(&self) -> i64 {
        self.get(sys::GISP_MODEL_VOCAB_SIZE)
    }
    pub fn hidden_size(&self) -> i64 {
        self.get(sys::GISP_MODEL_HIDDEN_SIZE)
    }
    pub fn num_layers(&self) -> i64 {
        self.get(sys::GISP_MODEL_NUM_LAYERS)
    }
    pub fn num_heads(&self) -> i64 {
        self.get(sys::GISP_MODEL_NUM_HEADS)
    }
    pub fn num_kv_heads(&self) -> i64 {
        self.get(sys::GISP_MODEL_NUM_KV_HEADS)
    }
    pub fn head_dim(&self) -> i64 {
        self.get(sys::GISP_MODEL_HEAD_DIM)
    }
    pub fn intermediate_size(&self) -> i64 {
        self.get(sys::GISP_MODEL_INTERMEDIATE_SIZE)
    }
    /// Total parameters at the current (possibly pruned) widths.
    pub fn total_parameters(&self) -> i64 {
        self.get(sys::GISP_MODEL_TOTAL_PARAMETERS)
    }
    pub fn decoder_parameters(&self) -> i64 {
        self.get(sys::GISP_MODEL_DECODER_PARAMETERS)
    }
    /// max_position_embeddings: the longest sequence the model takes.
    pub fn max_positions(&self) -> i64 {
        self.get(sys::GISP_MODEL_MAX_POSITIONS)
    }

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
        // SAFETY: valid handle, C string and out-pointers.
        check(unsafe {
            sys::gisp_model_tokenize(
                self.raw,
                text.as_ptr(),
                add_special_tokens,
                &mut ids,
                &mut n,
            )
        })?;
        let out = if ids.is_null() || n == 0 {
            Vec::new()
        } else {
            // SAFETY: gisp returned `n` ids at `ids`.
            unsafe { std::slice::from_raw_parts(ids, n) }.to_vec()
        };
        // SAFETY: allocated by gisp_model_tokenize; accepts NULL.
        unsafe { sys::gisp_tokens_free(ids) };
        Ok(out)
    }

    /// The subnetwork of `record` at `step`, sliced from this original model; it runs under
    /// this model's context.
    pub fn materialize(&self, record: &Record, step: i32) -> Result<Model> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid handles.
        check(unsafe { sys::gisp_model_materialize(self.raw, record.raw, step, &mut raw) })?;
        Ok(Model {
            raw,
            log: self.log.clone(),
            comm: self.comm.clone(),
        })
    }

    pub fn export(&self, dir: impl AsRef<Path>, dtype: DType) -> Result<()> {
        let dir = cpath(dir.as_ref())?;
        // SAFETY: valid handle and C string.
        check(unsafe { sys::gisp_model_export(self.raw, dir.as_ptr(), dtype as sys::gisp_dtype) })
    }

    /// Writes the model as `format` into `dir`, a new or empty directory (all or nothing).
    /// Returns (parameters written, exact parameters of the sliced model).
    pub fn export_format(
        &self,
        dir: impl AsRef<Path>,
        format: ExportFormat,
        dtype: DType,
    ) -> Result<(i64, i64)> {
        let dir = cpath(dir.as_ref())?;
        let (mut n, mut exact) = (0i64, 0i64);
        // SAFETY: valid handle, C string and out-pointers.
        check(unsafe {
            sys::gisp_model_export_format(
                self.raw,
                format as sys::gisp_export_format,
                dir.as_ptr(),
                dtype as sys::gisp_dtype,
                &mut n,
                &mut exact,
            )
        })?;
        Ok((n, exact))
    }

    /// Next-token logits of one sequence (no special tokens added): `ids.len() * vocab_size`
    /// floats, row-major.
    pub fn logits(&mut self, ids: &[i32]) -> Result<Vec<f32>> {
        let vocab = usize::try_from(self.vocab_size()).unwrap_or(0);
        let capacity = ids
            .len()
            .checked_mul(vocab)
            .ok_or_else(|| invalid(format!("{} tokens x {vocab} logits overflow", ids.len())))?;
        let mut out = vec![0f32; capacity];
        // SAFETY: `ids` is valid for its length; `out` holds `capacity` floats.
        check(unsafe {
            sys::gisp_model_logits(
                self.raw,
                ids.as_ptr(),
                ids.len(),
                out.as_mut_ptr(),
                capacity,
            )
        })?;
        Ok(out)
    }

    /// (perplexity, evaluated tokens) with the paper's protocol (chunks of `chunk_tokens`).
    pub fn perplexity(
        &mut self,
        text: impl AsRef<Path>,
        chunk_tokens: i64,
        max_chunks: i64,
    ) -> Result<(f64, i64)> {
        let path = cpath(text.as_ref())?;
        let (mut ppl, mut n) = (0f64, 0i64);
        // SAFETY: valid handle, C string, out-pointers.
        check(unsafe {
            sys::gisp_eval_perplexity(
                self.raw,
                path.as_ptr(),
                chunk_tokens,
                max_chunks,
                &mut ppl,
                &mut n,
            )
        })?;
        Ok((ppl, n))
    }

    /// (acc, acc_norm) of zero-shot multiple choice on {"context","choices","label"} JSONL;
    /// `limit` > 0 evaluates the first `limit` items.
    pub fn multiple_choice_accuracy(
        &mut self,
        jsonl: impl AsRef<Path>,
        limit: i64,
    ) -> Result<(f64, f64)> {
        let path = cpath(jsonl.as_ref())?;
        let (mut acc, mut acc_norm) = (0f64, 0f64);
        // SAFETY: valid handle, C string, out-pointers.
        check(unsafe {
            sys::gisp_eval_multiple_choice(self.raw, path.as_ptr(), limit, &mut acc, &mut acc_norm)
        })?;
        Ok((acc, acc_norm))
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: we own the handle; a Pruner borrowing the model has ended (borrow checker).
        unsafe { sys::gisp_model_free(self.raw) }
    }
}

// ------------------------------------------------------------------------------------------------
// Calibration data
// ------------------------------------------------------------------------------------------------

/// Calibration sequences.
pub struct Calibration {
    raw: *mut sys::gisp_calibration,
    // The log sink of the model's context when the data was built (the data runs under it).
    _log: Option<LogSink>,
}

// SAFETY: any thread may use a calibration set, one at a time.
unsafe impl Send for Calibration {}

struct TokenArrays {
    ptrs: Vec<*const i32>,
    lengths: Vec<usize>,
    masks: Option<Vec<*const u8>>,
}

impl TokenArrays {
    fn new(
        sequences: &[Vec<i32>],
        label_masks: Option<&[Vec<u8>]>,
        positive: Option<&[u8]>,
    ) -> Result<TokenArrays> {
        if let Some(m) = label_masks {
            if m.len() != sequences.len()
                || m.iter().zip(sequences).any(|(a, b)| a.len() != b.len())
            {
                return Err(invalid(
                    "label_masks must match the sequences' shapes".into(),
                ));
            }
        }
        if let Some(p) = positive {
            if p.len() != sequences.len() {
                return Err(invalid("positive must have one entry per sequence".into()));
            }
        }
        Ok(TokenArrays {
            ptrs: sequences.iter().map(|s| s.as_ptr()).collect(),
            lengths: sequences.iter().map(|s| s.len()).collect(),
            masks: label_masks.map(|m| m.iter().map(|v| v.as_ptr()).collect()),
        })
    }

    fn masks(&self) -> *const *const u8 {
        self.masks.as_ref().map_or(ptr::null(), |m| m.as_ptr())
    }

    /// Builds calibration data with `call`, a gisp_calibration_from_*tokens function given the
    /// arrays (count, tokens, lengths, label masks, positive) and the out-pointer.
    fn build(
        &self,
        positive: Option<&[u8]>,
        call: impl FnOnce(
            usize,
            *const *const i32,
            *const usize,
            *const *const u8,
            *const u8,
            *mut *mut sys::gisp_calibration,
        ) -> *mut sys::gisp_status,
    ) -> Result<*mut sys::gisp_calibration> {
        let mut raw = ptr::null_mut();
        check(call(
            self.ptrs.len(),
            self.ptrs.as_ptr(),
            self.lengths.as_ptr(),
            self.masks(),
            positive.map_or(ptr::null(), |p| p.as_ptr()),
            &mut raw,
        ))?;
        Ok(raw)
    }
}

impl Calibration {
    fn from_model(raw: *mut sys::gisp_calibration, model: &Model) -> Calibration {
        Calibration {
            raw,
            _log: model.log.clone(),
        }
    }

    /// Random windows of `window_tokens` tokens from a text or JSONL file (objective lm).
    pub fn text_windows(
        model: &mut Model,
        path: impl AsRef<Path>,
        window_tokens: i64,
        count: i64,
        seed: u64,
    ) -> Result<Calibration> {
        let path = cpath(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid handle and C string.
        check(unsafe {
            sys::gisp_calibration_text_windows(
                model.raw,
                path.as_ptr(),
                window_tokens,
                count,
                seed,
                &mut raw,
            )
        })?;
        Ok(Calibration::from_model(raw, model))
    }

    /// {"question","answer"} JSONL (objective answer-only).
    pub fn qa_jsonl(model: &mut Model, path: impl AsRef<Path>, limit: i64) -> Result<Calibration> {
        let path = cpath(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: as above.
        check(unsafe {
            sys::gisp_calibration_qa_jsonl(model.raw, path.as_ptr(), limit, &mut raw)
        })?;
        Ok(Calibration::from_model(raw, model))
    }

    /// {"context","choices","label"} JSONL (objective margin).
    pub fn multiple_choice_jsonl(
        model: &mut Model,
        path: impl AsRef<Path>,
        limit: i64,
    ) -> Result<Calibration> {
        let path = cpath(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: as above.
        check(unsafe {
            sys::gisp_calibration_multiple_choice_jsonl(model.raw, path.as_ptr(), limit, &mut raw)
        })?;
        Ok(Calibration::from_model(raw, model))
    }

    /// Token sequences; `label_masks[i][t] = 1` where token t's prediction carries loss (None:
    /// every token after the first); `positive` marks correct candidates (margin). Prefer
    /// [`Calibration::from_model_tokens`], which checks the ids against the model.
    pub fn from_tokens(
        sequences: &[Vec<i32>],
        label_masks: Option<&[Vec<u8>]>,
        positive: Option<&[u8]>,
    ) -> Result<Calibration> {
        let a = TokenArrays::new(sequences, label_masks, positive)?;
        // SAFETY: every pointer is valid for the lengths given; gisp copies the data.
        let raw = a.build(
            positive,
            |n, tokens, lengths, masks, positive, out| unsafe {
                sys::gisp_calibration_from_tokens(n, tokens, lengths, masks, positive, out)
            },
        )?;
        Ok(Calibration { raw, _log: None })
    }

    /// [`Calibration::from_tokens`] checked against `model`: every id inside its vocabulary and
    /// every sequence within its max positions (the error names the sequence and position). The
    /// data runs under the model's context.
    pub fn from_model_tokens(
        model: &mut Model,
        sequences: &[Vec<i32>],
        label_masks: Option<&[Vec<u8>]>,
        positive: Option<&[u8]>,
    ) -> Result<Calibration> {
        let a = TokenArrays::new(sequences, label_masks, positive)?;
        let handle = model.raw;
        // SAFETY: valid handle; every pointer is valid for the lengths given; gisp copies.
        let raw = a.build(
            positive,
            |n, tokens, lengths, masks, positive, out| unsafe {
                sys::gisp_calibration_from_model_tokens(
                    handle, n, tokens, lengths, masks, positive, out,
                )
            },
        )?;
        Ok(Calibration::from_model(raw, model))
    }

    pub fn len(&self) -> usize {
        // SAFETY: valid handle.
        unsafe { sys::gisp_calibration_num_sequences(self.raw) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Calibration {
    fn drop(&mut self) {
        // SAFETY: we own the handle; pruners borrowing it have ended.
        unsafe { sys::gisp_calibration_free(self.raw) }
    }
}

// ------------------------------------------------------------------------------------------------
// Prune configuration
// ------------------------------------------------------------------------------------------------

/// Pruning options; `new()` gives the GISP authors' defaults. Setters validate and chain.
pub struct PruneConfig {
    raw: *mut sys::gisp_prune_config,
}

// SAFETY: any thread may use a config, one at a time.
unsafe impl Send for PruneConfig {}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $c:ident, $conv:expr) => {
        $(#[$doc])*
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
    setter!(
        objective,
        Objective,
        gisp_prune_config_set_objective,
        |v: Objective| v as sys::gisp_objective
    );
    setter!(
        /// rho in [0, 1): fraction of units pruned after the last step.
        ratio,
        f64,
        gisp_prune_config_set_ratio,
        |v| v
    );
    setter!(
        /// n >= 1 steps (1: one-shot).
        steps,
        i32,
        gisp_prune_config_set_steps,
        |v| v
    );
    setter!(
        normalization,
        Normalization,
        gisp_prune_config_set_normalization,
        |v: Normalization| v as sys::gisp_normalization
    );
    setter!(
        gqa_unit,
        GqaUnit,
        gisp_prune_config_set_gqa_unit,
        |v: GqaUnit| v as sys::gisp_gqa_unit
    );
    setter!(
        /// Round kept MLP channels per layer to a multiple of v (0: off).
        round_channels_to,
        i32,
        gisp_prune_config_set_round_channels_to,
        |v| v
    );
    setter!(
        /// Layers with index < floor(v * L) are protected.
        protect_first_fraction,
        f64,
        gisp_prune_config_set_protect_first_fraction,
        |v| v
    );
    setter!(
        protect_last,
        bool,
        gisp_prune_config_set_protect_last,
        |v| v
    );
    setter!(
        /// Sequences per gradient batch.
        batch_size,
        i32,
        gisp_prune_config_set_batch_size,
        |v| v
    );
    setter!(
        /// The pruning method (default `Method::Gisp`).
        method,
        Method,
        gisp_prune_config_set_method,
        |v: Method| v as sys::gisp_method
    );
    setter!(
        /// `Method::Random`: the seed of the unit scores.
        seed,
        u64,
        gisp_prune_config_set_seed,
        |v| v
    );

    /// Methods other than GISP: the decoder sparsities of the record's steps, each in (0, 1)
    /// (copied; empty clears them).
    pub fn target_sparsities(self, v: &[f64]) -> Result<Self> {
        // SAFETY: valid handle; `v` is read for the call only.
        check(unsafe {
            sys::gisp_prune_config_set_target_sparsities(self.raw, v.as_ptr(), v.len())
        })?;
        Ok(self)
    }
    setter!(
        /// Physically shrink the working model after each step (same results).
        compact,
        bool,
        gisp_prune_config_set_compact,
        |v| v
    );

    /// The configuration as JSON (the record's "config" field).
    pub fn to_json(&self) -> Result<String> {
        let mut p = ptr::null_mut();
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_prune_config_to_json(self.raw, &mut p) })?;
        Ok(take_string(p))
    }

    /// `(dense, reachable)` before a run on the dense `model`: the dense model's own decoder
    /// sparsity (its norm weights count, so it is above 0; a record's sparsities start there)
    /// and the highest sparsity a run with this configuration can reach.
    pub fn sparsity_range(&self, model: &Model) -> Result<(f64, f64)> {
        let (mut dense, mut reachable) = (0f64, 0f64);
        // SAFETY: valid handles and out-pointers.
        check(unsafe {
            sys::gisp_prune_config_sparsity_range(self.raw, model.raw, &mut dense, &mut reachable)
        })?;
        Ok((dense, reachable))
    }
}

impl Drop for PruneConfig {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::gisp_prune_config_free(self.raw) }
    }
}

// ------------------------------------------------------------------------------------------------
// Records
// ------------------------------------------------------------------------------------------------

/// The record of a run: per-unit pruning steps, per-step sparsity and loss.
pub struct Record {
    raw: *mut sys::gisp_record,
}

// SAFETY: any thread may use a record, and several threads may read one at once; every `&self`
// method only reads it.
unsafe impl Send for Record {}
unsafe impl Sync for Record {}

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

    /// JSON when `path` ends in ".json", binary otherwise; written atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = cpath(path.as_ref())?;
        // SAFETY: valid handle and C string.
        check(unsafe { sys::gisp_record_save(self.raw, path.as_ptr()) })
    }

    /// Binary protobuf bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut p = ptr::null_mut();
        let mut n = 0usize;
        // SAFETY: valid handle and out-pointers.
        check(unsafe { sys::gisp_record_to_bytes(self.raw, &mut p, &mut n) })?;
        let out = if p.is_null() || n == 0 {
            Vec::new()
        } else {
            // SAFETY: gisp returned `n` bytes at `p`.
            unsafe { std::slice::from_raw_parts(p, n) }.to_vec()
        };
        // SAFETY: allocated by gisp; accepts NULL.
        unsafe { sys::gisp_buffer_free(p) };
        Ok(out)
    }

    pub fn to_json(&self) -> Result<String> {
        let mut p = ptr::null_mut();
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_record_to_json(self.raw, &mut p) })?;
        Ok(take_string(p))
    }

    /// Completed steps.
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
        let mut out = vec![0i32; self.num_units().max(0) as usize];
        // SAFETY: the buffer holds num_units entries.
        check(unsafe { sys::gisp_record_unit_steps(self.raw, out.as_mut_ptr(), out.len()) })?;
        Ok(out)
    }

    /// Per completed step, the decoder sparsity after it.
    pub fn step_sparsity(&self) -> Result<Vec<f64>> {
        let mut out = vec![0f64; self.num_steps().max(0) as usize];
        // SAFETY: the buffer holds num_steps entries.
        check(unsafe { sys::gisp_record_step_sparsity(self.raw, out.as_mut_ptr(), out.len()) })?;
        Ok(out)
    }

    /// Per completed step, the calibration loss of its gradient pass.
    pub fn step_loss(&self) -> Result<Vec<f64>> {
        let mut out = vec![0f64; self.num_steps().max(0) as usize];
        // SAFETY: the buffer holds num_steps entries.
        check(unsafe { sys::gisp_record_step_loss(self.raw, out.as_mut_ptr(), out.len()) })?;
        Ok(out)
    }

    /// The completed step whose sparsity is nearest to `target_sparsity` (OutOfRange if the
    /// run did not get there).
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

// ------------------------------------------------------------------------------------------------
// Pruner
// ------------------------------------------------------------------------------------------------

/// A snapshot of a running pruner.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// The step being computed.
    pub step: i32,
    pub steps: i32,
    /// Batches done this step.
    pub batch: i64,
    pub batches: i64,
    pub elapsed_seconds: f64,
    pub eta_seconds: f64,
    /// After the last completed step.
    pub sparsity: f64,
    /// Of the last completed step.
    pub loss: f64,
}

/// Prunes a model in place. Borrows the model mutably and the calibration set for its lifetime,
/// which is what the C API requires of them. Calls run under the model's context: its cancel
/// token stops them like a progress callback returning false.
pub struct Pruner<'a> {
    raw: *mut sys::gisp_pruner,
    _borrows: PhantomData<(&'a mut Model, &'a Calibration)>,
}

type Callback<'c> = dyn FnMut(&Progress) -> bool + 'c;

unsafe extern "C" fn progress_trampoline(p: *const sys::gisp_progress, user: *mut c_void) -> bool {
    // SAFETY: `user` is the `&mut &mut Callback` installed for the duration of run/step, and `p`
    // is valid during the call.
    unsafe {
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
        catch_unwind(AssertUnwindSafe(|| cb(&progress))).unwrap_or(false)
    }
}

impl<'a> Pruner<'a> {
    /// `resume`: a record of an earlier run with the same model, data and configuration.
    pub fn new(
        model: &'a mut Model,
        data: &'a Calibration,
        config: &PruneConfig,
        resume: Option<&Record>,
    ) -> Result<Pruner<'a>> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid handles; the borrows keep model and data alive and unused elsewhere.
        check(unsafe {
            sys::gisp_pruner_create(
                model.raw,
                data.raw,
                config.raw,
                resume.map_or(ptr::null(), |r| r.raw as *const _),
                &mut raw,
            )
        })?;
        Ok(Pruner {
            raw,
            _borrows: PhantomData,
        })
    }

    /// After every completed step, write the record to `path` (JSON if it ends in ".json").
    pub fn set_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = cpath(path.as_ref())?;
        // SAFETY: valid handle and C string (gisp copies it).
        check(unsafe { sys::gisp_pruner_set_checkpoint_path(self.raw, path.as_ptr()) })
    }

    /// Stops writing checkpoints.
    pub fn clear_checkpoint(&mut self) -> Result<()> {
        // SAFETY: valid handle; NULL disables.
        check(unsafe { sys::gisp_pruner_set_checkpoint_path(self.raw, ptr::null()) })
    }

    fn with_callback<F: FnMut(&Progress) -> bool>(
        &mut self,
        mut f: F,
        call: unsafe extern "C" fn(*mut sys::gisp_pruner) -> *mut sys::gisp_status,
    ) -> Result<()> {
        let mut cb: &mut Callback = &mut f;
        // SAFETY: `cb` outlives the call; the callback is removed before returning.
        unsafe {
            sys::gisp_pruner_set_progress_callback(
                self.raw,
                Some(progress_trampoline),
                &mut cb as *mut &mut Callback as *mut c_void,
            );
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

    /// Runs one step (FailedPrecondition when all are done).
    pub fn step(&mut self) -> Result<()> {
        self.step_with(|_| true)
    }

    /// Runs one step with a progress callback (false cancels).
    pub fn step_with<F: FnMut(&Progress) -> bool>(&mut self, progress: F) -> Result<()> {
        self.with_callback(progress, sys::gisp_pruner_step)
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
    /// Units the pruner ranks (heads or KV groups and MLP channels of every layer, protected
    /// ones included).
    pub fn num_units(&self) -> i64 {
        // SAFETY: valid handle.
        unsafe { sys::gisp_pruner_num_units(self.raw) }
    }

    /// A copy of the current record.
    pub fn record(&self) -> Result<Record> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_pruner_record(self.raw, &mut raw) })?;
        Ok(Record { raw })
    }

    /// Normalized scores of the last step, in record order (inf: protected units, 0: pruned).
    pub fn scores(&self) -> Result<Vec<f64>> {
        let n = self.num_units().max(0) as usize;
        let mut out = vec![0f64; n];
        let mut count = 0usize;
        // SAFETY: the buffer holds n entries.
        check(unsafe { sys::gisp_pruner_scores(self.raw, out.as_mut_ptr(), n, &mut count) })?;
        out.truncate(count);
        Ok(out)
    }

    /// Per step this pruner ran, wall seconds of the step and its phases: a JSON array of
    /// gisp.proto's StepTiming in protobuf's JSON mapping, `[{"step": 0, "seconds": ..}, ..]`.
    pub fn timings_json(&self) -> Result<String> {
        let mut p = ptr::null_mut();
        // SAFETY: valid handle.
        check(unsafe { sys::gisp_pruner_timings_json(self.raw, &mut p) })?;
        Ok(take_string(p))
    }
}

impl Drop for Pruner<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::gisp_pruner_free(self.raw) }
    }
}

// ------------------------------------------------------------------------------------------------
// Debug
// ------------------------------------------------------------------------------------------------

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("threads", &self.threads())
            .field("log_callback", &self.log.is_some())
            .field("communicator", &self.comm.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("num_layers", &self.num_layers())
            .field("total_parameters", &self.total_parameters())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Calibration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calibration")
            .field("len", &self.len())
            .finish()
    }
}

impl fmt::Debug for PruneConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_json() {
            Ok(json) => write!(f, "PruneConfig({json})"),
            Err(_) => f.write_str("PruneConfig(..)"),
        }
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("num_steps", &self.num_steps())
            .field("num_units", &self.num_units())
            .field("complete", &self.complete())
            .finish()
    }
}

impl fmt::Debug for Pruner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pruner")
            .field("next_step", &self.next_step())
            .field("total_steps", &self.total_steps())
            .field("num_units", &self.num_units())
            .finish()
    }
}
