"""Python bindings for gisp: Global Iterative Structured Pruning of Llama-family models.

A thin, idiomatic layer over the C ABI (libgisp.so):

    import gisp
    with gisp.Model("path/to/hf-model") as model:
        data = gisp.Calibration.text_windows(model, "c4.jsonl", window_tokens=256, count=2000)
        config = gisp.PruneConfig(ratio=0.7, steps=112)
        with gisp.Pruner(model, data, config) as pruner:
            pruner.run(progress=True)
            record = pruner.record()
        with model.materialize(record, record.nearest_step(0.3)) as small:
            small.export("out/llama-30")

In a service, give each job a Context (threads, memory budget, log sink, cancel token):

    token = gisp.CancelToken()
    ctx = gisp.Context(num_threads=4, log="logging", cancel_token=token)
    model = gisp.Model.load(path, context=ctx, progress=lambda done, total: True)
    ...                       # another thread may call token.cancel() at any time

Errors raise gisp.Error (with .code and .message), or one of its subclasses per code. Calls
into the library release the GIL, so separate models may run on separate Python threads.
"""
import ctypes
import enum
import json as _json
import logging
import threading

import numpy as np

from . import _ffi
from ._lib import MissingFunctionError, has, lib
from .progress import ProgressDisplay

__all__ = ["Error", "CancelledError", "MissingFunctionError", "Code", "Device", "DType",
           "ExportFormat", "Objective", "Normalization", "GqaUnit", "Method", "LogLevel", "ModelField",
           "CancelToken", "Context", "Communicator", "LoadOptions", "Model", "load_model", "Calibration",
           "PruneConfig", "Pruner", "Record", "Progress", "version", "abi_version",
           "code_name", "default_num_threads", "set_log_callback"]

_P = ctypes.POINTER


class Code(enum.IntEnum):
    OK = _ffi.GISP_OK
    INVALID_ARGUMENT = _ffi.GISP_INVALID_ARGUMENT
    NOT_FOUND = _ffi.GISP_NOT_FOUND
    FAILED_PRECONDITION = _ffi.GISP_FAILED_PRECONDITION
    OUT_OF_RANGE = _ffi.GISP_OUT_OF_RANGE
    UNIMPLEMENTED = _ffi.GISP_UNIMPLEMENTED
    UNAVAILABLE = _ffi.GISP_UNAVAILABLE
    RESOURCE_EXHAUSTED = _ffi.GISP_RESOURCE_EXHAUSTED
    PERMISSION_DENIED = _ffi.GISP_PERMISSION_DENIED
    CANCELLED = _ffi.GISP_CANCELLED
    INTERNAL = _ffi.GISP_INTERNAL
    DATA_LOSS = _ffi.GISP_DATA_LOSS
    UNKNOWN = _ffi.GISP_UNKNOWN


class Error(Exception):
    """A gisp error: `code` (Code) and `message` (names the file, field or value)."""

    def __init__(self, code, message):
        super().__init__(f"[{Code(code).name.lower()}] {message}")
        self.code = Code(code)
        self.message = message


class CancelledError(Error):
    """A run was cancelled (a callback returned False or a CancelToken was raised); a pruner's
    record keeps the completed steps, a load returns no model."""


def _enum(name, prefix, cname):
    return enum.IntEnum(name, [(k[len(prefix):], v) for k, v in _ffi.ENUMS[cname].items()])


Device = _enum("Device", "GISP_DEVICE_", "gisp_device")
DType = _enum("DType", "GISP_DTYPE_", "gisp_dtype")
ExportFormat = _enum("ExportFormat", "GISP_EXPORT_", "gisp_export_format")


class _NamedEnum(enum.IntEnum):
    """A pruning option gisp also spells by name ("answer-only", "kv-group"): the names come
    from the library (gisp_*_name / gisp_*_from_name), the same the prune CLI accepts."""

    @classmethod
    def from_name(cls, name):
        out = ctypes.c_int()
        _check(_NAME_FUNCTIONS[cls.__name__][1](str(name).encode("utf-8"), ctypes.byref(out)))
        return cls(out.value)

    @property
    def gisp_name(self):
        return _NAME_FUNCTIONS[type(self).__name__][0](int(self)).decode("utf-8")


def _named_enum(name, prefix, cname):
    return _NamedEnum(name, [(k[len(prefix):], v) for k, v in _ffi.ENUMS[cname].items()])


Objective = _named_enum("Objective", "GISP_OBJECTIVE_", "gisp_objective")
Normalization = _named_enum("Normalization", "GISP_NORMALIZATION_", "gisp_normalization")
GqaUnit = _named_enum("GqaUnit", "GISP_GQA_UNIT_", "gisp_gqa_unit")
Method = _named_enum("Method", "GISP_METHOD_", "gisp_method")
_NAME_FUNCTIONS = {
    "Method": (lib.gisp_method_name, lib.gisp_method_from_name),
    "Objective": (lib.gisp_objective_name, lib.gisp_objective_from_name),
    "Normalization": (lib.gisp_normalization_name, lib.gisp_normalization_from_name),
    "GqaUnit": (lib.gisp_gqa_unit_name, lib.gisp_gqa_unit_from_name),
}
LogLevel = _enum("LogLevel", "GISP_LOG_", "gisp_log_level")
ModelField = _enum("ModelField", "GISP_MODEL_", "gisp_model_field")

_PY_LEVELS = {LogLevel.DEBUG: logging.DEBUG, LogLevel.INFO: logging.INFO,
              LogLevel.WARNING: logging.WARNING, LogLevel.ERROR: logging.ERROR}


def _check(status):
    if not status:
        return
    code = lib.gisp_status_code(status)
    message = (lib.gisp_status_message(status) or b"").decode("utf-8", "replace")
    lib.gisp_status_free(status)
    raise (CancelledError if code == Code.CANCELLED else Error)(code, message)


def _take_string(ptr):
    """Decodes and frees a char* that gisp allocated."""
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.gisp_string_free(ptr)


def _path(p):
    return str(p).encode("utf-8")


def version():
    """The loaded library's version string, e.g. "0.1.0"."""
    return lib.gisp_version_string().decode()


def abi_version():
    """GISP_ABI_VERSION of the loaded library (checked against the header's at import)."""
    return lib.gisp_abi_version()


def code_name(code):
    """The library's stable lower-case name of a Code, e.g. "invalid_argument"."""
    return lib.gisp_code_name(int(code)).decode()


def default_num_threads():
    """The thread count gisp calls use without a Context (OpenMP's setting)."""
    return lib.gisp_context_num_threads(None)


def _log_trampoline(log):
    """A gisp_log_fn calling `log`: a callable (level: LogLevel, message: str), a
    logging.Logger, or "logging" (the "gisp" logger)."""
    if log == "logging":
        log = logging.getLogger("gisp")
    if isinstance(log, logging.Logger):
        logger = log

        def log(level, message):
            logger.log(_PY_LEVELS.get(level, logging.ERROR), "%s", message)
    elif not callable(log):
        raise TypeError(f"log must be a callable, a logging.Logger or 'logging', not {log!r}")

    def trampoline(level, message, _):
        try:
            try:
                level = LogLevel(level)
            except ValueError:
                pass
            log(level, (message or b"").decode("utf-8", "replace"))
        except BaseException:  # never unwind through C
            logging.getLogger("gisp").exception("gisp log callback raised")
    return _ffi.gisp_log_fn(trampoline)


# Every process-wide callback ever installed: another thread may still be inside one when it is
# replaced, so none is released.
_log_keepalive = []


def set_log_callback(fn, min_level=LogLevel.INFO):
    """Routes gisp's process-wide log messages (calls without a Context log sink) to `fn`: a
    callable fn(level: LogLevel, message: str), a logging.Logger, or "logging"; None discards."""
    if fn is None:
        lib.gisp_set_log_callback(_ffi.gisp_log_fn(), int(min_level), None)
        return
    callback = _log_trampoline(fn)
    _log_keepalive.append(callback)
    lib.gisp_set_log_callback(callback, int(min_level), None)


class _Handle:
    """Owns a C handle; close() (or the context manager, or garbage collection) frees it."""
    _free = None
    _h = None

    def __init__(self, handle):
        self._h = handle

    @property
    def _handle(self):
        if not self._h:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._h

    def close(self):
        if self._h:
            type(self)._free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def _handle_or_none(obj):
    return None if obj is None else obj._handle


class CancelToken(_Handle):
    """A flag any thread may raise to stop the gisp calls that watch it (through a Context).

    cancel() is thread-safe and lock-free: call it from another thread, a signal handler or a
    request handler while a load, calibration build, prune or evaluation runs; that call then
    raises CancelledError. reset() lowers the flag for the next job. Contexts (and the models
    that use them) hold their own reference, so closing the token is always safe."""
    _free = lib.gisp_cancel_token_free

    def __init__(self):
        h = _P(_ffi.gisp_cancel_token)()
        _check(lib.gisp_cancel_token_create(ctypes.byref(h)))
        super().__init__(h)

    def cancel(self):
        lib.gisp_cancel_token_cancel(self._handle)

    def reset(self):
        lib.gisp_cancel_token_reset(self._handle)

    @property
    def cancelled(self):
        return bool(lib.gisp_cancel_token_is_cancelled(self._handle))


class Context(_Handle):
    """The resources a host grants gisp: threads, a memory budget, a log sink and a cancel token.

    A model copies the context's settings when it is loaded with it or given it
    (Model.set_context); later changes to the Context affect only models given it afterwards.

    num_threads: threads gisp's calls may use (0: the default, normally one per core).
    memory_budget: bytes for activations and working buffers (0: automatic).
    log: a callable (level: LogLevel, message: str), a logging.Logger, or "logging" (the "gisp"
        logger); messages below log_level are dropped. None: the process-wide callback.
    cancel_token: a CancelToken that stops calls under this context, or None.
    communicator: a Communicator whose ranks share the pruning work (docs/scaling.md), or None.
    """
    _free = lib.gisp_context_free

    def __init__(self, num_threads=0, memory_budget=0, log=None, log_level=LogLevel.INFO,
                 cancel_token=None, communicator=None):
        h = _P(_ffi.gisp_context)()
        _check(lib.gisp_context_create(ctypes.byref(h)))
        super().__init__(h)
        self._memory_budget = 0
        self._log_callback = None   # the gisp_log_fn C may call; models keep it alive too
        self._cancel_token = None
        self._communicator = None
        if num_threads:
            self.num_threads = num_threads
        if memory_budget:
            self.memory_budget = memory_budget
        if log is not None:
            self.set_log(log, log_level)
        if cancel_token is not None:
            self.cancel_token = cancel_token
        if communicator is not None:
            self.communicator = communicator

    @property
    def num_threads(self):
        """The thread count calls under this context use (the default when set to 0)."""
        return lib.gisp_context_num_threads(self._handle)

    @num_threads.setter
    def num_threads(self, n):
        _check(lib.gisp_context_set_num_threads(self._handle, n))

    @property
    def memory_budget(self):
        """The budget last set, in bytes (0: automatic sizing)."""
        return self._memory_budget

    @memory_budget.setter
    def memory_budget(self, nbytes):
        _check(lib.gisp_context_set_memory_budget(self._handle, nbytes))
        self._memory_budget = nbytes

    def set_log(self, log, min_level=LogLevel.INFO):
        """Sends the log messages of calls under this context to `log` (see the class doc);
        None restores the process-wide callback."""
        callback = _ffi.gisp_log_fn() if log is None else _log_trampoline(log)
        _check(lib.gisp_context_set_log_callback(self._handle, callback, int(min_level), None))
        self._log_callback = None if log is None else callback

    @property
    def cancel_token(self):
        return self._cancel_token

    @cancel_token.setter
    def cancel_token(self, token):
        _check(lib.gisp_context_set_cancel_token(self._handle, _handle_or_none(token)))
        self._cancel_token = token

    @property
    def communicator(self):
        return self._communicator

    @communicator.setter
    def communicator(self, comm):
        _check(lib.gisp_context_set_communicator(self._handle, _handle_or_none(comm)))
        self._communicator = comm

    def _keepalive(self):
        """What C may call back into once a model has copied this context."""
        comm = self._communicator
        return (self._log_callback, None if comm is None else comm._callbacks)


class Communicator(_Handle):
    """Rank `rank` of `size` ranks that prune one model together (docs/scaling.md).

    Give it to the Context of the model on every rank: every rank then loads the same model,
    builds the same calibration data and runs the same pruner calls, which become collective.
    `collectives` moves the data, on the thread making the gisp call, in the same order on every
    rank; its methods mirror mpi4py's buffer calls:
        all_reduce(array)        replace a float32 or float64 numpy array, in place, by its
                                 element-wise sum over all ranks (the same bits on every rank);
                                 mpi4py: comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)
        broadcast(buffer, root)  copy rank root's bytes (a writable memoryview) into every
                                 other rank's; mpi4py: comm.Bcast(buffer, root=root)
    An exception fails the gisp call with Code.UNAVAILABLE (the exception is logged to the "gisp"
    logger); an int it carries as `code` is named in the message.
    """
    _free = lib.gisp_communicator_free

    def __init__(self, rank, size, collectives):
        h = _P(_ffi.gisp_communicator)()
        _check(lib.gisp_communicator_create(rank, size, None, ctypes.byref(h)))
        super().__init__(h)
        self.rank, self.size = rank, size
        self._callbacks = (
            _ffi.gisp_all_reduce_f32_fn(_collective(lambda data, count: collectives.all_reduce(
                np.ctypeslib.as_array(data, shape=(count,)) if count else
                np.zeros(0, np.float32)))),
            _ffi.gisp_all_reduce_f64_fn(_collective(lambda data, count: collectives.all_reduce(
                np.ctypeslib.as_array(data, shape=(count,)) if count else
                np.zeros(0, np.float64)))),
            _ffi.gisp_broadcast_fn(_collective(lambda data, nbytes, root: collectives.broadcast(
                memoryview((ctypes.c_char * nbytes).from_address(data)).cast("B"), root))),
        )
        _check(lib.gisp_communicator_set_all_reduce_f32(self._handle, self._callbacks[0]))
        _check(lib.gisp_communicator_set_all_reduce_f64(self._handle, self._callbacks[1]))
        _check(lib.gisp_communicator_set_broadcast(self._handle, self._callbacks[2]))

    def agree(self, error=None):
        """Collective: every rank passes the exception its own setup raised (None: success) and
        gets the same answer: None when every rank succeeded, otherwise the lowest failed rank's
        error (message prefixed "rank R of N: ") is raised. A non-gisp exception counts as
        Code.UNKNOWN with its str()."""
        code, message = Code.OK, b""
        if error is not None:
            code = error.code if isinstance(error, Error) else Code.UNKNOWN
            text = error.message if isinstance(error, Error) else str(error)
            message = text.replace("\0", " ").encode("utf-8")
        _check(lib.gisp_communicator_agree(self._handle, int(code), message))


def _collective(fn):
    """Wraps a collective for C: 0 on success, the exception's int `code` or -1 on failure (an
    exception must not unwind through C)."""
    def call(*args):
        *args, _user = args
        try:
            fn(*args)
            return 0
        except BaseException as e:  # noqa: B902 - never unwind through C
            logging.getLogger("gisp").exception("gisp collective raised")
            code = getattr(e, "code", None)
            return code if isinstance(code, int) and code != 0 else -1
    return call


def _parse_device(device, device_index):
    if isinstance(device, str):
        name, _, index = device.partition(":")
        device = Device[name.upper()]
        if index:
            device_index = int(index)
    return Device(device), device_index


class LoadOptions(_Handle):
    """Options of Model.load: device ("cpu", "cuda", "cuda:1" or Device), device_index,
    working_dtype (DType; AUTO keeps 16-bit checkpoints 16-bit where the backend can),
    stream_layers (bool: keep the decoder layers and their gradients in host memory and upload
    one layer at a time, for models larger than the device; docs/scaling.md), context
    (copied now) and progress, a callable progress(done_layers, total_layers) called on the
    loading thread after each decoder layer; returning False cancels the load (CancelledError)
    and an exception it raises propagates from the load."""
    _free = lib.gisp_load_options_free

    def __init__(self, device=Device.CPU, device_index=0, working_dtype=None, context=None,
                 progress=None, stream_layers=False):
        h = _P(_ffi.gisp_load_options)()
        _check(lib.gisp_load_options_create(ctypes.byref(h)))
        super().__init__(h)
        self._keep = []
        self._errors = threading.local()
        self._progress_callback = None
        device, device_index = _parse_device(device, device_index)
        if device != Device.CPU or device_index != 0:
            _check(lib.gisp_load_options_set_device(self._handle, int(device), device_index))
        if working_dtype is not None:
            _check(lib.gisp_load_options_set_working_dtype(self._handle, int(DType(working_dtype))))
        if stream_layers:
            self.set_stream_layers(True)
        if context is not None:
            self.set_context(context)
        if progress is not None:
            self.set_progress(progress)

    def set_stream_layers(self, enabled=True):
        _check(lib.gisp_load_options_set_stream_layers(self._handle, bool(enabled)))

    def set_context(self, context):
        _check(lib.gisp_load_options_set_context(self._handle, _handle_or_none(context)))
        if context is not None:
            self._keep.append(context._keepalive())

    def set_progress(self, progress):
        if progress is None:
            callback = _ffi.gisp_load_progress_fn()
        else:
            errors = self._errors

            def trampoline(done, total, _):
                try:
                    return progress(done, total) is not False
                except BaseException as e:  # never unwind through C
                    errors.error = e
                    return False
            callback = _ffi.gisp_load_progress_fn(trampoline)
        _check(lib.gisp_load_options_set_progress_callback(self._handle, callback, None))
        self._progress_callback = callback  # alive as long as these options

    def _load(self, model_dir):
        h = _P(_ffi.gisp_model)()
        self._errors.error = None
        try:
            _check(lib.gisp_model_load_with_options(_path(model_dir), self._handle,
                                                    ctypes.byref(h)))
        except Error as e:
            error, self._errors.error = self._errors.error, None
            if error is not None:  # the progress callable raised: that is the cause
                raise error from e
            raise
        return h


class Model(_Handle):
    """An HF Llama-family model directory, memory-mapped, with a working copy on a device.

    Model(dir) loads on the CPU with the defaults; the keyword arguments (or an `options`
    LoadOptions) select the device, working dtype, Context and a load-progress callable."""
    _free = lib.gisp_model_free
    _FIELDS = {f.name.lower(): f for f in ModelField}

    def __init__(self, model_dir, device=Device.CPU, device_index=0, *, working_dtype=None,
                 context=None, progress=None, options=None, _handle=None, _keep=None):
        self._keep = [] if _keep is None else list(_keep)  # callbacks C may call for this model
        if _handle is None:
            if options is not None:
                if (working_dtype, context, progress) != (None, None, None) or \
                        _parse_device(device, device_index) != (Device.CPU, 0):
                    raise TypeError("pass either options or the individual load settings")
            elif (working_dtype, context, progress) != (None, None, None):
                options = LoadOptions(device, device_index, working_dtype, context, progress)
            if options is not None:
                _handle = options._load(model_dir)
                self._keep += options._keep
            else:
                device, device_index = _parse_device(device, device_index)
                _handle = _P(_ffi.gisp_model)()
                _check(lib.gisp_model_load(_path(model_dir), int(device), device_index,
                                           ctypes.byref(_handle)))
        super().__init__(_handle)

    @classmethod
    def load(cls, model_dir, options=None, **settings):
        """Model.load(dir, device=, device_index=, working_dtype=, context=, progress=,
        stream_layers=) or
        Model.load(dir, LoadOptions(...))."""
        if options is None:
            options = LoadOptions(**settings)
        elif settings:
            raise TypeError("pass either options or the individual load settings")
        return cls(model_dir, options=options)

    def set_context(self, context):
        """Runs later calls on this model (and calibration data and pruners built from it) under
        a copy of `context`; None: the process defaults. Not while another thread uses it."""
        _check(lib.gisp_model_set_context(self._handle, _handle_or_none(context)))
        if context is not None:
            self._keep.append(context._keepalive())

    def __getattr__(self, name):
        if name in Model._FIELDS:
            return self.get_int(Model._FIELDS[name])
        raise AttributeError(name)

    def get_int(self, field):
        """One integer property (ModelField or its lower-case name)."""
        if isinstance(field, str):
            field = Model._FIELDS[field]
        v = ctypes.c_int64()
        _check(lib.gisp_model_get_int(self._handle, int(field), ctypes.byref(v)))
        return v.value

    def config(self):
        """The model's config.json (with gisp_per_layer_config when pruned) as a dict."""
        p = _P(ctypes.c_char)()
        _check(lib.gisp_model_config_json(self._handle, ctypes.byref(p)))
        return _json.loads(_take_string(p))

    def tokenize(self, text, add_special_tokens=True):
        """numpy int32 token ids of `text`."""
        ids = _P(ctypes.c_int32)()
        n = ctypes.c_size_t()
        _check(lib.gisp_model_tokenize(self._handle, text.encode("utf-8"), add_special_tokens,
                                       ctypes.byref(ids), ctypes.byref(n)))
        try:
            return np.ctypeslib.as_array(ids, shape=(n.value,)).copy() if n.value else \
                np.zeros(0, np.int32)
        finally:
            if has("gisp_tokens_free"):
                lib.gisp_tokens_free(ids)
            else:  # libraries older than gisp_tokens_free documented gisp_buffer_free
                lib.gisp_buffer_free(ctypes.cast(ids, _P(ctypes.c_uint8)))

    def materialize(self, record, step):
        """The subnetwork of `record` at `step`, sliced from this (original) model; it starts
        with this model's context."""
        h = _P(_ffi.gisp_model)()
        _check(lib.gisp_model_materialize(self._handle, record._handle, step, ctypes.byref(h)))
        return Model(None, _handle=h, _keep=self._keep)

    def export(self, out_dir, dtype=DType.AUTO):
        _check(lib.gisp_model_export(self._handle, _path(out_dir), int(dtype)))

    def export_format(self, out_dir, format="llama", dtype=DType.AUTO):
        """Writes this model as `format` ("sliced", "llama", "gguf", "decilm", or ExportFormat)
        into `out_dir`, a new or empty directory; all or nothing. Returns (parameters written,
        exact parameters of the sliced model)."""
        fmt = ExportFormat[format.upper()] if isinstance(format, str) else ExportFormat(format)
        n = ctypes.c_int64()
        exact = ctypes.c_int64()
        _check(lib.gisp_model_export_format(self._handle, int(fmt), _path(out_dir), int(dtype),
                                            ctypes.byref(n), ctypes.byref(exact)))
        return n.value, exact.value

    def logits(self, ids):
        """Next-token logits (float32 [len(ids), vocab]) of one token sequence."""
        ids = np.ascontiguousarray(ids, dtype=np.int32)
        out = np.empty((len(ids), self.vocab_size), dtype=np.float32)
        _check(lib.gisp_model_logits(
            self._handle, ids.ctypes.data_as(_P(ctypes.c_int32)), len(ids),
            out.ctypes.data_as(_P(ctypes.c_float)), out.size))
        return out

    def perplexity(self, text_path, chunk_tokens=128, max_chunks=0):
        """(perplexity, evaluated tokens) with the paper's protocol."""
        ppl = ctypes.c_double()
        n = ctypes.c_int64()
        _check(lib.gisp_eval_perplexity(self._handle, _path(text_path), chunk_tokens, max_chunks,
                                        ctypes.byref(ppl), ctypes.byref(n)))
        return ppl.value, n.value

    def multiple_choice_accuracy(self, jsonl_path, limit=0):
        """(acc, acc_norm) on {"context","choices","label"} JSONL, lm-eval conventions."""
        acc = ctypes.c_double()
        acc_norm = ctypes.c_double()
        _check(lib.gisp_eval_multiple_choice(self._handle, _path(jsonl_path), limit,
                                             ctypes.byref(acc), ctypes.byref(acc_norm)))
        return acc.value, acc_norm.value


def load_model(model_dir, options=None, **settings):
    """Model.load: loads `model_dir` with a LoadOptions or the same keyword settings."""
    return Model.load(model_dir, options, **settings)


class Calibration(_Handle):
    """Calibration sequences; build with one of the class methods."""
    _free = lib.gisp_calibration_free

    def __init__(self, handle, keep=()):
        super().__init__(handle)
        self._keep = keep  # data built from a model runs under the model's context

    @classmethod
    def text_windows(cls, model, path, window_tokens=256, count=128, seed=0):
        h = _P(_ffi.gisp_calibration)()
        _check(lib.gisp_calibration_text_windows(model._handle, _path(path), window_tokens, count,
                                                 seed, ctypes.byref(h)))
        return cls(h, model._keep)

    @classmethod
    def qa_jsonl(cls, model, path, limit=0):
        h = _P(_ffi.gisp_calibration)()
        _check(lib.gisp_calibration_qa_jsonl(model._handle, _path(path), limit, ctypes.byref(h)))
        return cls(h, model._keep)

    @classmethod
    def multiple_choice_jsonl(cls, model, path, limit=0):
        h = _P(_ffi.gisp_calibration)()
        _check(lib.gisp_calibration_multiple_choice_jsonl(model._handle, _path(path), limit,
                                                          ctypes.byref(h)))
        return cls(h, model._keep)

    @staticmethod
    def _token_args(sequences, label_masks, positive):
        arrays = [np.ascontiguousarray(s, dtype=np.int32) for s in sequences]
        n = len(arrays)
        keep = list(arrays)
        ptrs = (_P(ctypes.c_int32) * n)(*[a.ctypes.data_as(_P(ctypes.c_int32)) for a in arrays])
        lengths = (ctypes.c_size_t * n)(*[len(a) for a in arrays])
        masks_arg = None
        if label_masks is not None:
            masks = [np.ascontiguousarray(m, dtype=np.uint8) for m in label_masks]
            if len(masks) != n or any(len(m) != len(a) for m, a in zip(masks, arrays)):
                raise ValueError("label_masks must have the shape of the sequences")
            keep += masks
            masks_arg = (_P(ctypes.c_uint8) * n)(
                *[m.ctypes.data_as(_P(ctypes.c_uint8)) for m in masks])
        pos_arg = None
        if positive is not None:
            pos = np.ascontiguousarray(positive, dtype=np.uint8)
            if len(pos) != n:
                raise ValueError("positive needs one flag per sequence")
            keep.append(pos)
            pos_arg = pos.ctypes.data_as(_P(ctypes.c_uint8))
        return (n, ptrs, lengths, masks_arg, pos_arg), keep

    @classmethod
    def from_tokens(cls, sequences, label_masks=None, positive=None):
        """`sequences`: iterables of token ids; `label_masks`: same shapes, 1 where a token's
        prediction carries loss (None: all after the first); `positive`: margin labels.
        Prefer from_model_tokens, which checks the ids against a model."""
        args, keep = cls._token_args(sequences, label_masks, positive)
        h = _P(_ffi.gisp_calibration)()
        _check(lib.gisp_calibration_from_tokens(*args, ctypes.byref(h)))
        del keep  # gisp copied everything
        return cls(h)

    @classmethod
    def from_model_tokens(cls, model, sequences, label_masks=None, positive=None):
        """from_tokens checked against `model`: every id inside its vocabulary and every
        sequence within its max positions (INVALID_ARGUMENT naming the sequence and position);
        the data runs under the model's context."""
        args, keep = cls._token_args(sequences, label_masks, positive)
        h = _P(_ffi.gisp_calibration)()
        _check(lib.gisp_calibration_from_model_tokens(model._handle, *args, ctypes.byref(h)))
        del keep
        return cls(h, model._keep)

    def __len__(self):
        return lib.gisp_calibration_num_sequences(self._handle)


class PruneConfig(_Handle):
    """Pruning options; defaults reproduce the GISP authors' released code."""
    _free = lib.gisp_prune_config_free
    _SETTERS = {
        "objective": lib.gisp_prune_config_set_objective,
        "ratio": lib.gisp_prune_config_set_ratio,
        "steps": lib.gisp_prune_config_set_steps,
        "normalization": lib.gisp_prune_config_set_normalization,
        "gqa_unit": lib.gisp_prune_config_set_gqa_unit,
        "round_channels_to": lib.gisp_prune_config_set_round_channels_to,
        "protect_first_fraction": lib.gisp_prune_config_set_protect_first_fraction,
        "protect_last": lib.gisp_prune_config_set_protect_last,
        "batch_size": lib.gisp_prune_config_set_batch_size,
        "compact": lib.gisp_prune_config_set_compact,
        "method": lib.gisp_prune_config_set_method,
        "target_sparsities": None,  # a sequence of floats: set() passes it as an array
        "seed": lib.gisp_prune_config_set_seed,
    }

    def __init__(self, **options):
        h = _P(_ffi.gisp_prune_config)()
        _check(lib.gisp_prune_config_create(ctypes.byref(h)))
        super().__init__(h)
        for name, value in options.items():
            self.set(name, value)

    _NAMED = {"objective": Objective, "normalization": Normalization, "gqa_unit": GqaUnit,
              "method": Method}

    def set(self, name, value):
        """Sets one option; objective, normalization, gqa_unit and method also take gisp's names
        ("answer-only", "paper", "kv-group", "wanda-sp"); target_sparsities takes a sequence of
        floats (methods other than gisp: one record step per target)."""
        if name not in self._SETTERS:
            raise Error(Code.INVALID_ARGUMENT, f"unknown option {name!r}; options: "
                        + ", ".join(sorted(self._SETTERS)))
        if name == "target_sparsities":
            values = [float(v) for v in value]
            array = (ctypes.c_double * len(values))(*values)
            _check(lib.gisp_prune_config_set_target_sparsities(self._handle, array, len(values)))
            return self
        if isinstance(value, str) and name in self._NAMED:
            value = self._NAMED[name].from_name(value)
        if isinstance(value, enum.Enum):
            value = int(value)
        _check(self._SETTERS[name](self._handle, value))
        return self

    def to_dict(self):
        p = _P(ctypes.c_char)()
        _check(lib.gisp_prune_config_to_json(self._handle, ctypes.byref(p)))
        return _json.loads(_take_string(p))

    def sparsity_range(self, model):
        """(dense, reachable) before a run on the dense `model`: the dense model's own decoder
        sparsity (its norm weights count, so above 0; a record's sparsities start there) and the
        highest sparsity a run with this configuration can reach."""
        dense, reachable = ctypes.c_double(), ctypes.c_double()
        _check(lib.gisp_prune_config_sparsity_range(self._handle, model._handle,
                                                    ctypes.byref(dense), ctypes.byref(reachable)))
        return dense.value, reachable.value


class Record(_Handle):
    """The record of a run: per-unit pruning steps and per-step sparsity and loss."""
    _free = lib.gisp_record_free

    @classmethod
    def load(cls, path):
        h = _P(_ffi.gisp_record)()
        _check(lib.gisp_record_load(_path(path), ctypes.byref(h)))
        return cls(h)

    @classmethod
    def from_bytes(cls, data):
        data = bytes(data)
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        h = _P(_ffi.gisp_record)()
        _check(lib.gisp_record_from_bytes(buf, len(data), ctypes.byref(h)))
        return cls(h)

    def save(self, path):
        _check(lib.gisp_record_save(self._handle, _path(path)))

    def to_bytes(self):
        p = _P(ctypes.c_uint8)()
        n = ctypes.c_size_t()
        _check(lib.gisp_record_to_bytes(self._handle, ctypes.byref(p), ctypes.byref(n)))
        try:
            return ctypes.string_at(p, n.value)
        finally:
            lib.gisp_buffer_free(p)

    def to_json(self):
        p = _P(ctypes.c_char)()
        _check(lib.gisp_record_to_json(self._handle, ctypes.byref(p)))
        return _take_string(p)

    @property
    def num_steps(self):
        return lib.gisp_record_num_steps(self._handle)

    @property
    def num_units(self):
        return lib.gisp_record_num_units(self._handle)

    @property
    def complete(self):
        return lib.gisp_record_complete(self._handle)

    def unit_steps(self):
        """numpy int32 [units]: the step that pruned each unit, -1 if never."""
        out = np.empty(self.num_units, dtype=np.int32)
        _check(lib.gisp_record_unit_steps(self._handle, out.ctypes.data_as(_P(ctypes.c_int32)),
                                          out.size))
        return out

    def step_sparsity(self):
        out = np.empty(self.num_steps, dtype=np.float64)
        _check(lib.gisp_record_step_sparsity(
            self._handle, out.ctypes.data_as(_P(ctypes.c_double)), out.size))
        return out

    def step_loss(self):
        out = np.empty(self.num_steps, dtype=np.float64)
        _check(lib.gisp_record_step_loss(
            self._handle, out.ctypes.data_as(_P(ctypes.c_double)), out.size))
        return out

    def nearest_step(self, target_sparsity):
        step = ctypes.c_int32()
        _check(lib.gisp_record_nearest_step(self._handle, target_sparsity, ctypes.byref(step)))
        return step.value


class Progress:
    """A snapshot of a running pruner, passed to progress callbacks."""
    __slots__ = ("step", "steps", "batch", "batches", "elapsed_seconds", "eta_seconds",
                 "sparsity", "loss")

    def __init__(self, p):
        self.step = lib.gisp_progress_step(p)
        self.steps = lib.gisp_progress_steps(p)
        self.batch = lib.gisp_progress_batch(p)
        self.batches = lib.gisp_progress_batches(p)
        self.elapsed_seconds = lib.gisp_progress_elapsed_seconds(p)
        self.eta_seconds = lib.gisp_progress_eta_seconds(p)
        self.sparsity = lib.gisp_progress_sparsity(p)
        self.loss = lib.gisp_progress_loss(p)


class Pruner(_Handle):
    """Prunes `model` in place with GISP; `resume` continues an earlier record. The run obeys the
    cancel token of the model's Context (CancelledError; the record keeps completed steps)."""
    _free = lib.gisp_pruner_free

    def __init__(self, model, data, config, resume=None, checkpoint=None):
        h = _P(_ffi.gisp_pruner)()
        _check(lib.gisp_pruner_create(model._handle, data._handle, config._handle,
                                      _handle_or_none(resume), ctypes.byref(h)))
        super().__init__(h)
        self._keep = (model, data)  # the C pruner borrows both
        self._callback = None
        self._error = None
        if checkpoint is not None:
            self.set_checkpoint_path(checkpoint)

    def set_checkpoint_path(self, path):
        """Writes the record to `path` after every completed step (None disables)."""
        _check(lib.gisp_pruner_set_checkpoint_path(self._handle,
                                                   None if path is None else _path(path)))

    def _install(self, progress):
        """progress: None, True (a display for terminals and notebooks) or a callable taking a
        Progress and returning False to cancel."""
        fn = None
        if progress is None:
            self._callback = _ffi.gisp_progress_fn()
        else:
            fn = ProgressDisplay() if progress is True else progress

            def trampoline(p, _):
                try:
                    return fn(Progress(p)) is not False
                except BaseException as e:  # never unwind through C
                    self._error = e
                    return False
            self._callback = _ffi.gisp_progress_fn(trampoline)
        lib.gisp_pruner_set_progress_callback(self._handle, self._callback, None)
        return fn if progress is True else None

    def _call(self, fn, progress):
        display = self._install(progress)
        self._error = None
        try:
            _check(fn(self._handle))
        except CancelledError:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            raise
        finally:
            if display is not None:
                display.close()

    def step(self, progress=None):
        self._call(lib.gisp_pruner_step, progress)

    def run(self, progress=None):
        self._call(lib.gisp_pruner_run, progress)

    @property
    def done(self):
        return lib.gisp_pruner_done(self._handle)

    @property
    def next_step(self):
        return lib.gisp_pruner_next_step(self._handle)

    @property
    def total_steps(self):
        return lib.gisp_pruner_total_steps(self._handle)

    @property
    def num_units(self):
        """Units the pruner ranks (heads or KV groups and MLP channels, protected included)."""
        return lib.gisp_pruner_num_units(self._handle)

    def record(self):
        h = _P(_ffi.gisp_record)()
        _check(lib.gisp_pruner_record(self._handle, ctypes.byref(h)))
        return Record(h)

    def scores(self):
        """numpy float64 [units]: normalized scores of the last step (inf: protected)."""
        if has("gisp_pruner_num_units"):
            n = self.num_units
        else:  # an older library: the record has as many units
            with self.record() as r:
                n = r.num_units
        out = np.empty(n, dtype=np.float64)
        count = ctypes.c_size_t()
        _check(lib.gisp_pruner_scores(self._handle, out.ctypes.data_as(_P(ctypes.c_double)), n,
                                      ctypes.byref(count)))
        return out[:count.value]

    def timings(self):
        """Per step this pruner ran: a dict with step, seconds, gradient_seconds,
        scoring_seconds, ranking_seconds and compaction_seconds (gisp.proto's StepTiming)."""
        p = _P(ctypes.c_char)()
        _check(lib.gisp_pruner_timings_json(self._handle, ctypes.byref(p)))
        return _json.loads(_take_string(p))
