"""Loads libgisp.so and declares the C ABI (c_api/gisp.h) for ctypes.

The library is found, in order, at $GISP_LIBRARY, next to this package (an installed wheel may
ship it), in the repository's bazel-bin/c_api (a source checkout), or by the dynamic loader.
The ABI version is checked at load time.
"""
import ctypes
import os
import pathlib

ABI_VERSION = 1

c_status_p = ctypes.c_void_p
c_handle_p = ctypes.c_void_p


def _candidates():
    env = os.environ.get("GISP_LIBRARY")
    if env:
        yield env
    here = pathlib.Path(__file__).resolve().parent
    yield str(here / "libgisp.so.1")
    for parent in here.parents:
        lib = parent / "bazel-bin" / "c_api" / "libgisp.so.1"
        if lib.exists():
            yield str(lib)
            break
    yield "libgisp.so.1"


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("cannot load libgisp.so.1 (build it with `bazel build //c_api:shared_library` "
                      "or set GISP_LIBRARY):\n  " + "\n  ".join(errors))


lib = _load()

PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_bool, c_handle_p, ctypes.c_void_p)
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def _declare(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


_i32p = ctypes.POINTER(ctypes.c_int32)
_i64p = ctypes.POINTER(ctypes.c_int64)
_dblp = ctypes.POINTER(ctypes.c_double)
_u8p = ctypes.POINTER(ctypes.c_uint8)
_sizep = ctypes.POINTER(ctypes.c_size_t)
_hp = ctypes.POINTER(c_handle_p)
_charpp = ctypes.POINTER(ctypes.c_void_p)

for name, res, args in [
    ("gisp_status_code", ctypes.c_int, [c_status_p]),
    ("gisp_status_message", ctypes.c_char_p, [c_status_p]),
    ("gisp_status_free", None, [c_status_p]),
    ("gisp_code_name", ctypes.c_char_p, [ctypes.c_int]),
    ("gisp_string_free", None, [ctypes.c_void_p]),
    ("gisp_buffer_free", None, [ctypes.c_void_p]),
    ("gisp_version_string", ctypes.c_char_p, []),
    ("gisp_abi_version", ctypes.c_uint32, []),
    ("gisp_set_log_callback", None, [LOG_FN, ctypes.c_int, ctypes.c_void_p]),
    ("gisp_model_load", c_status_p, [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, _hp]),
    ("gisp_model_free", None, [c_handle_p]),
    ("gisp_model_get_int", c_status_p, [c_handle_p, ctypes.c_int, _i64p]),
    ("gisp_model_config_json", c_status_p, [c_handle_p, _charpp]),
    ("gisp_model_tokenize", c_status_p, [c_handle_p, ctypes.c_char_p, ctypes.c_bool,
                                         ctypes.POINTER(ctypes.c_void_p), _sizep]),
    ("gisp_calibration_text_windows", c_status_p, [c_handle_p, ctypes.c_char_p, ctypes.c_int64,
                                                   ctypes.c_int64, ctypes.c_uint64, _hp]),
    ("gisp_calibration_qa_jsonl", c_status_p, [c_handle_p, ctypes.c_char_p, ctypes.c_int64, _hp]),
    ("gisp_calibration_multiple_choice_jsonl", c_status_p,
     [c_handle_p, ctypes.c_char_p, ctypes.c_int64, _hp]),
    ("gisp_calibration_from_tokens", c_status_p,
     [ctypes.c_size_t, ctypes.POINTER(_i32p), _sizep, ctypes.POINTER(_u8p), _u8p, _hp]),
    ("gisp_calibration_num_sequences", ctypes.c_size_t, [c_handle_p]),
    ("gisp_calibration_free", None, [c_handle_p]),
    ("gisp_prune_config_create", c_status_p, [_hp]),
    ("gisp_prune_config_free", None, [c_handle_p]),
    ("gisp_prune_config_set_objective", c_status_p, [c_handle_p, ctypes.c_int]),
    ("gisp_prune_config_set_ratio", c_status_p, [c_handle_p, ctypes.c_double]),
    ("gisp_prune_config_set_steps", c_status_p, [c_handle_p, ctypes.c_int32]),
    ("gisp_prune_config_set_normalization", c_status_p, [c_handle_p, ctypes.c_int]),
    ("gisp_prune_config_set_gqa_unit", c_status_p, [c_handle_p, ctypes.c_int]),
    ("gisp_prune_config_set_round_channels_to", c_status_p, [c_handle_p, ctypes.c_int32]),
    ("gisp_prune_config_set_protect_first_fraction", c_status_p, [c_handle_p, ctypes.c_double]),
    ("gisp_prune_config_set_protect_last", c_status_p, [c_handle_p, ctypes.c_bool]),
    ("gisp_prune_config_set_batch_size", c_status_p, [c_handle_p, ctypes.c_int32]),
    ("gisp_prune_config_set_compact", c_status_p, [c_handle_p, ctypes.c_bool]),
    ("gisp_prune_config_to_json", c_status_p, [c_handle_p, _charpp]),
    ("gisp_record_load", c_status_p, [ctypes.c_char_p, _hp]),
    ("gisp_record_save", c_status_p, [c_handle_p, ctypes.c_char_p]),
    ("gisp_record_to_json", c_status_p, [c_handle_p, _charpp]),
    ("gisp_record_to_bytes", c_status_p, [c_handle_p, ctypes.POINTER(ctypes.c_void_p), _sizep]),
    ("gisp_record_from_bytes", c_status_p, [ctypes.c_char_p, ctypes.c_size_t, _hp]),
    ("gisp_record_free", None, [c_handle_p]),
    ("gisp_record_num_steps", ctypes.c_int32, [c_handle_p]),
    ("gisp_record_num_units", ctypes.c_int64, [c_handle_p]),
    ("gisp_record_complete", ctypes.c_bool, [c_handle_p]),
    ("gisp_record_unit_steps", c_status_p, [c_handle_p, _i32p, ctypes.c_size_t]),
    ("gisp_record_step_sparsity", c_status_p, [c_handle_p, _dblp, ctypes.c_size_t]),
    ("gisp_record_step_loss", c_status_p, [c_handle_p, _dblp, ctypes.c_size_t]),
    ("gisp_record_nearest_step", c_status_p, [c_handle_p, ctypes.c_double, _i32p]),
    ("gisp_progress_step", ctypes.c_int32, [c_handle_p]),
    ("gisp_progress_steps", ctypes.c_int32, [c_handle_p]),
    ("gisp_progress_batch", ctypes.c_int64, [c_handle_p]),
    ("gisp_progress_batches", ctypes.c_int64, [c_handle_p]),
    ("gisp_progress_elapsed_seconds", ctypes.c_double, [c_handle_p]),
    ("gisp_progress_eta_seconds", ctypes.c_double, [c_handle_p]),
    ("gisp_progress_sparsity", ctypes.c_double, [c_handle_p]),
    ("gisp_progress_loss", ctypes.c_double, [c_handle_p]),
    ("gisp_pruner_create", c_status_p, [c_handle_p, c_handle_p, c_handle_p, c_handle_p, _hp]),
    ("gisp_pruner_free", None, [c_handle_p]),
    ("gisp_pruner_set_progress_callback", None, [c_handle_p, PROGRESS_FN, ctypes.c_void_p]),
    ("gisp_pruner_set_checkpoint_path", c_status_p, [c_handle_p, ctypes.c_char_p]),
    ("gisp_pruner_step", c_status_p, [c_handle_p]),
    ("gisp_pruner_run", c_status_p, [c_handle_p]),
    ("gisp_pruner_done", ctypes.c_bool, [c_handle_p]),
    ("gisp_pruner_next_step", ctypes.c_int32, [c_handle_p]),
    ("gisp_pruner_total_steps", ctypes.c_int32, [c_handle_p]),
    ("gisp_pruner_record", c_status_p, [c_handle_p, _hp]),
    ("gisp_pruner_scores", c_status_p, [c_handle_p, _dblp, ctypes.c_size_t, _sizep]),
    ("gisp_pruner_timings_json", c_status_p, [c_handle_p, _charpp]),
    ("gisp_model_materialize", c_status_p, [c_handle_p, c_handle_p, ctypes.c_int32, _hp]),
    ("gisp_model_export", c_status_p, [c_handle_p, ctypes.c_char_p, ctypes.c_int]),
    ("gisp_model_export_format", c_status_p, [c_handle_p, ctypes.c_int, ctypes.c_char_p,
                                              ctypes.c_int, _i64p, _i64p]),
    ("gisp_model_logits", c_status_p, [c_handle_p, _i32p, ctypes.c_size_t,
                                       ctypes.POINTER(ctypes.c_float), ctypes.c_size_t]),
    ("gisp_eval_perplexity", c_status_p, [c_handle_p, ctypes.c_char_p, ctypes.c_int64,
                                          ctypes.c_int64, _dblp, _i64p]),
    ("gisp_eval_multiple_choice", c_status_p, [c_handle_p, ctypes.c_char_p, ctypes.c_int64,
                                               _dblp, _dblp]),
]:
    _declare(name, res, *args)

if lib.gisp_abi_version() != ABI_VERSION:
    raise ImportError(f"libgisp ABI {lib.gisp_abi_version()} does not match this package "
                      f"({ABI_VERSION})")
