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

Errors raise gisp.Error (with .code and .message), or one of its subclasses per code.
"""
import ctypes
import enum
import json as _json

import numpy as np

from ._lib import LOG_FN, PROGRESS_FN, lib
from .progress import ProgressDisplay

__all__ = ["Error", "CancelledError", "Code", "Device", "DType", "ExportFormat", "Objective", "Normalization",
           "GqaUnit", "Model", "Calibration", "PruneConfig", "Pruner", "Record", "Progress",
           "version", "set_log_callback"]


class Code(enum.IntEnum):
    OK = 0
    INVALID_ARGUMENT = 1
    NOT_FOUND = 2
    FAILED_PRECONDITION = 3
    OUT_OF_RANGE = 4
    UNIMPLEMENTED = 5
    UNAVAILABLE = 6
    RESOURCE_EXHAUSTED = 7
    PERMISSION_DENIED = 8
    CANCELLED = 9
    INTERNAL = 10
    DATA_LOSS = 11
    UNKNOWN = 12


class Error(Exception):
    """A gisp error: `code` (Code) and `message` (names the file, field or value)."""

    def __init__(self, code, message):
        super().__init__(f"[{Code(code).name.lower()}] {message}")
        self.code = Code(code)
        self.message = message


class CancelledError(Error):
    """The run was cancelled from a progress callback; the record keeps the completed steps."""


class Device(enum.IntEnum):
    CPU = 0
    CUDA = 1


class DType(enum.IntEnum):
    F32 = 0
    BF16 = 1
    F16 = 2
    AUTO = 100


class ExportFormat(enum.IntEnum):
    SLICED = 0
    LLAMA = 1
    GGUF = 2
    DECILM = 3


class Objective(enum.IntEnum):
    LM = 0
    ANSWER_ONLY = 1
    MARGIN = 2


class Normalization(enum.IntEnum):
    REFERENCE = 0
    PAPER = 1
    NONE = 2


class GqaUnit(enum.IntEnum):
    QUERY_HEAD = 0
    KV_GROUP = 1


def _check(status):
    if not status:
        return
    code = lib.gisp_status_code(status)
    message = lib.gisp_status_message(status).decode("utf-8", "replace")
    lib.gisp_status_free(status)
    raise (CancelledError if code == Code.CANCELLED else Error)(code, message)


def _take_string(ptr):
    try:
        return ctypes.cast(ptr, ctypes.c_char_p).value.decode("utf-8")
    finally:
        lib.gisp_string_free(ptr)


def _path(p):
    return str(p).encode("utf-8")


def version():
    """The loaded library's version string, e.g. "0.1.0"."""
    return lib.gisp_version_string().decode()


_log_keepalive = None


def set_log_callback(fn, min_level=1):
    """Routes gisp's log messages to fn(level: int, message: str); None disables."""
    global _log_keepalive
    if fn is None:
        _log_keepalive = None
        lib.gisp_set_log_callback(LOG_FN(), min_level, None)
        return
    _log_keepalive = LOG_FN(lambda level, msg, _: fn(level, msg.decode("utf-8", "replace")))
    lib.gisp_set_log_callback(_log_keepalive, min_level, None)


class _Handle:
    """Owns a C handle; close() (or the context manager, or garbage collection) frees it."""
    _free = None

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


class Model(_Handle):
    """An HF Llama-family model directory, memory-mapped, with a working copy on a device."""
    _free = lib.gisp_model_free
    _FIELDS = {"vocab_size": 0, "hidden_size": 1, "num_layers": 2, "num_heads": 3,
               "num_kv_heads": 4, "head_dim": 5, "intermediate_size": 6, "total_parameters": 7,
               "decoder_parameters": 8, "max_positions": 9}

    def __init__(self, model_dir, device=Device.CPU, device_index=0, *, _handle=None):
        if _handle is None:
            h = ctypes.c_void_p()
            _check(lib.gisp_model_load(_path(model_dir), int(device), device_index,
                                       ctypes.byref(h)))
            _handle = h
        super().__init__(_handle)

    def __getattr__(self, name):
        if name in Model._FIELDS:
            v = ctypes.c_int64()
            _check(lib.gisp_model_get_int(self._handle, Model._FIELDS[name], ctypes.byref(v)))
            return v.value
        raise AttributeError(name)

    def config(self):
        """The model's config.json (with gisp_per_layer_config when pruned) as a dict."""
        p = ctypes.c_void_p()
        _check(lib.gisp_model_config_json(self._handle, ctypes.byref(p)))
        return _json.loads(_take_string(p))

    def tokenize(self, text, add_special_tokens=True):
        ids = ctypes.c_void_p()
        n = ctypes.c_size_t()
        _check(lib.gisp_model_tokenize(self._handle, text.encode("utf-8"), add_special_tokens,
                                       ctypes.byref(ids), ctypes.byref(n)))
        try:
            return np.ctypeslib.as_array(ctypes.cast(ids, ctypes.POINTER(ctypes.c_int32)),
                                         shape=(n.value,)).copy() if n.value else \
                np.zeros(0, np.int32)
        finally:
            lib.gisp_buffer_free(ids)

    def materialize(self, record, step):
        """The subnetwork of `record` at `step`, sliced from this (original) model."""
        h = ctypes.c_void_p()
        _check(lib.gisp_model_materialize(self._handle, record._handle, step, ctypes.byref(h)))
        return Model(None, _handle=h)

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
            self._handle, ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), len(ids),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.size))
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


class Calibration(_Handle):
    """Calibration sequences; build with one of the class methods."""
    _free = lib.gisp_calibration_free

    @classmethod
    def text_windows(cls, model, path, window_tokens=256, count=128, seed=0):
        h = ctypes.c_void_p()
        _check(lib.gisp_calibration_text_windows(model._handle, _path(path), window_tokens, count,
                                                 seed, ctypes.byref(h)))
        return cls(h)

    @classmethod
    def qa_jsonl(cls, model, path, limit=0):
        h = ctypes.c_void_p()
        _check(lib.gisp_calibration_qa_jsonl(model._handle, _path(path), limit, ctypes.byref(h)))
        return cls(h)

    @classmethod
    def multiple_choice_jsonl(cls, model, path, limit=0):
        h = ctypes.c_void_p()
        _check(lib.gisp_calibration_multiple_choice_jsonl(model._handle, _path(path), limit,
                                                          ctypes.byref(h)))
        return cls(h)

    @classmethod
    def from_tokens(cls, sequences, label_masks=None, positive=None):
        """`sequences`: iterables of token ids; `label_masks`: same shapes, 1 where a token's
        prediction carries loss (None: all after the first); `positive`: margin labels."""
        arrays = [np.ascontiguousarray(s, dtype=np.int32) for s in sequences]
        n = len(arrays)
        ptrs = (ctypes.POINTER(ctypes.c_int32) * n)(
            *[a.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)) for a in arrays])
        lengths = (ctypes.c_size_t * n)(*[len(a) for a in arrays])
        masks_arg, keep = None, []
        if label_masks is not None:
            masks = [np.ascontiguousarray(m, dtype=np.uint8) for m in label_masks]
            keep += masks
            masks_arg = (ctypes.POINTER(ctypes.c_uint8) * n)(
                *[m.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)) for m in masks])
        pos_arg = None
        if positive is not None:
            pos = np.ascontiguousarray(positive, dtype=np.uint8)
            keep.append(pos)
            pos_arg = pos.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
        h = ctypes.c_void_p()
        _check(lib.gisp_calibration_from_tokens(n, ptrs, lengths, masks_arg, pos_arg,
                                                ctypes.byref(h)))
        return cls(h)

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
    }

    def __init__(self, **options):
        h = ctypes.c_void_p()
        _check(lib.gisp_prune_config_create(ctypes.byref(h)))
        super().__init__(h)
        for name, value in options.items():
            self.set(name, value)

    def set(self, name, value):
        if name not in self._SETTERS:
            raise Error(Code.INVALID_ARGUMENT, f"unknown option {name!r}; options: "
                        + ", ".join(sorted(self._SETTERS)))
        if isinstance(value, enum.Enum):
            value = int(value)
        _check(self._SETTERS[name](self._handle, value))
        return self

    def to_dict(self):
        p = ctypes.c_void_p()
        _check(lib.gisp_prune_config_to_json(self._handle, ctypes.byref(p)))
        return _json.loads(_take_string(p))


class Record(_Handle):
    """The record of a run: per-unit pruning steps and per-step sparsity and loss."""
    _free = lib.gisp_record_free

    @classmethod
    def load(cls, path):
        h = ctypes.c_void_p()
        _check(lib.gisp_record_load(_path(path), ctypes.byref(h)))
        return cls(h)

    @classmethod
    def from_bytes(cls, data):
        h = ctypes.c_void_p()
        _check(lib.gisp_record_from_bytes(bytes(data), len(data), ctypes.byref(h)))
        return cls(h)

    def save(self, path):
        _check(lib.gisp_record_save(self._handle, _path(path)))

    def to_bytes(self):
        p = ctypes.c_void_p()
        n = ctypes.c_size_t()
        _check(lib.gisp_record_to_bytes(self._handle, ctypes.byref(p), ctypes.byref(n)))
        try:
            return ctypes.string_at(p, n.value)
        finally:
            lib.gisp_buffer_free(p)

    def to_json(self):
        p = ctypes.c_void_p()
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
        _check(lib.gisp_record_unit_steps(self._handle,
                                          out.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                          out.size))
        return out

    def step_sparsity(self):
        out = np.empty(self.num_steps, dtype=np.float64)
        _check(lib.gisp_record_step_sparsity(
            self._handle, out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), out.size))
        return out

    def step_loss(self):
        out = np.empty(self.num_steps, dtype=np.float64)
        _check(lib.gisp_record_step_loss(
            self._handle, out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), out.size))
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
    """Prunes `model` in place with GISP; `resume` continues an earlier record."""
    _free = lib.gisp_pruner_free

    def __init__(self, model, data, config, resume=None, checkpoint=None):
        h = ctypes.c_void_p()
        _check(lib.gisp_pruner_create(model._handle, data._handle, config._handle,
                                      resume._handle if resume is not None else None,
                                      ctypes.byref(h)))
        super().__init__(h)
        self._keep = (model, data)  # the C pruner borrows both
        self._callback = None
        self._error = None
        if checkpoint is not None:
            _check(lib.gisp_pruner_set_checkpoint_path(self._handle, _path(checkpoint)))

    def _install(self, progress):
        """progress: None, True (a display for terminals and notebooks) or a callable taking a
        Progress and returning False to cancel."""
        if progress is None:
            self._callback = PROGRESS_FN()
        else:
            fn = ProgressDisplay() if progress is True else progress

            def trampoline(p, _):
                try:
                    return fn(Progress(p)) is not False
                except BaseException as e:  # never unwind through C
                    self._error = e
                    return False
            self._callback = PROGRESS_FN(trampoline)
        lib.gisp_pruner_set_progress_callback(self._handle, self._callback, None)
        return fn if progress is True else None

    def _call(self, fn, progress):
        display = self._install(progress)
        self._error = None
        try:
            _check(fn(self._handle))
        except CancelledError:
            if self._error is not None:
                raise self._error
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

    def record(self):
        h = ctypes.c_void_p()
        _check(lib.gisp_pruner_record(self._handle, ctypes.byref(h)))
        return Record(h)

    def scores(self):
        """numpy float64 [units]: normalized scores of the last step (inf: protected)."""
        n = lib.gisp_record_num_units(self.record()._handle)
        out = np.empty(n, dtype=np.float64)
        count = ctypes.c_size_t()
        _check(lib.gisp_pruner_scores(self._handle,
                                      out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), n,
                                      ctypes.byref(count)))
        return out[:count.value]

    def timings(self):
        p = ctypes.c_void_p()
        _check(lib.gisp_pruner_timings_json(self._handle, ctypes.byref(p)))
        return _json.loads(_take_string(p))
