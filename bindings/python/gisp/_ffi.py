# Generated from c_api/gisp.h by bindings/python/tools/gen_ffi.py. Do not edit; run
#   /usr/bin/python3 bindings/python/tools/gen_ffi.py
# after changing the header (bindings/python/tests/test_ffi.py checks it is current).
"""ctypes declarations of the gisp C ABI: macros, enums, opaque handles, callbacks and
FUNCTIONS (name -> (restype, argtypes, parameter names)) in header order."""
import ctypes

# Macros
GISP_VERSION_MAJOR = 0
GISP_VERSION_MINOR = 1
GISP_VERSION_PATCH = 0
GISP_ABI_VERSION = 1

# Enums (C enums are int-sized)
gisp_code = ctypes.c_int
GISP_OK = 0
GISP_INVALID_ARGUMENT = 1
GISP_NOT_FOUND = 2
GISP_FAILED_PRECONDITION = 3
GISP_OUT_OF_RANGE = 4
GISP_UNIMPLEMENTED = 5
GISP_UNAVAILABLE = 6
GISP_RESOURCE_EXHAUSTED = 7
GISP_PERMISSION_DENIED = 8
GISP_CANCELLED = 9
GISP_INTERNAL = 10
GISP_DATA_LOSS = 11
GISP_UNKNOWN = 12
gisp_log_level = ctypes.c_int
GISP_LOG_DEBUG = 0
GISP_LOG_INFO = 1
GISP_LOG_WARNING = 2
GISP_LOG_ERROR = 3
gisp_device = ctypes.c_int
GISP_DEVICE_CPU = 0
GISP_DEVICE_CUDA = 1
gisp_dtype = ctypes.c_int
GISP_DTYPE_F32 = 0
GISP_DTYPE_BF16 = 1
GISP_DTYPE_F16 = 2
GISP_DTYPE_AUTO = 100
gisp_model_field = ctypes.c_int
GISP_MODEL_VOCAB_SIZE = 0
GISP_MODEL_HIDDEN_SIZE = 1
GISP_MODEL_NUM_LAYERS = 2
GISP_MODEL_NUM_HEADS = 3
GISP_MODEL_NUM_KV_HEADS = 4
GISP_MODEL_HEAD_DIM = 5
GISP_MODEL_INTERMEDIATE_SIZE = 6
GISP_MODEL_TOTAL_PARAMETERS = 7
GISP_MODEL_DECODER_PARAMETERS = 8
GISP_MODEL_MAX_POSITIONS = 9
gisp_objective = ctypes.c_int
GISP_OBJECTIVE_LM = 0
GISP_OBJECTIVE_ANSWER_ONLY = 1
GISP_OBJECTIVE_MARGIN = 2
gisp_normalization = ctypes.c_int
GISP_NORMALIZATION_REFERENCE = 0
GISP_NORMALIZATION_PAPER = 1
GISP_NORMALIZATION_NONE = 2
gisp_gqa_unit = ctypes.c_int
GISP_GQA_UNIT_QUERY_HEAD = 0
GISP_GQA_UNIT_KV_GROUP = 1
gisp_method = ctypes.c_int
GISP_METHOD_GISP = 0
GISP_METHOD_ONESHOT = 1
GISP_METHOD_WANDA_SP = 2
GISP_METHOD_FLAP = 3
GISP_METHOD_LLM_PRUNER = 4
GISP_METHOD_MAGNITUDE = 5
GISP_METHOD_RANDOM = 6
gisp_export_format = ctypes.c_int
GISP_EXPORT_SLICED = 0
GISP_EXPORT_LLAMA = 1
GISP_EXPORT_GGUF = 2
GISP_EXPORT_DECILM = 3

ENUMS = {
    'gisp_code': {
        'GISP_OK': 0,
        'GISP_INVALID_ARGUMENT': 1,
        'GISP_NOT_FOUND': 2,
        'GISP_FAILED_PRECONDITION': 3,
        'GISP_OUT_OF_RANGE': 4,
        'GISP_UNIMPLEMENTED': 5,
        'GISP_UNAVAILABLE': 6,
        'GISP_RESOURCE_EXHAUSTED': 7,
        'GISP_PERMISSION_DENIED': 8,
        'GISP_CANCELLED': 9,
        'GISP_INTERNAL': 10,
        'GISP_DATA_LOSS': 11,
        'GISP_UNKNOWN': 12,
    },
    'gisp_log_level': {
        'GISP_LOG_DEBUG': 0,
        'GISP_LOG_INFO': 1,
        'GISP_LOG_WARNING': 2,
        'GISP_LOG_ERROR': 3,
    },
    'gisp_device': {
        'GISP_DEVICE_CPU': 0,
        'GISP_DEVICE_CUDA': 1,
    },
    'gisp_dtype': {
        'GISP_DTYPE_F32': 0,
        'GISP_DTYPE_BF16': 1,
        'GISP_DTYPE_F16': 2,
        'GISP_DTYPE_AUTO': 100,
    },
    'gisp_model_field': {
        'GISP_MODEL_VOCAB_SIZE': 0,
        'GISP_MODEL_HIDDEN_SIZE': 1,
        'GISP_MODEL_NUM_LAYERS': 2,
        'GISP_MODEL_NUM_HEADS': 3,
        'GISP_MODEL_NUM_KV_HEADS': 4,
        'GISP_MODEL_HEAD_DIM': 5,
        'GISP_MODEL_INTERMEDIATE_SIZE': 6,
        'GISP_MODEL_TOTAL_PARAMETERS': 7,
        'GISP_MODEL_DECODER_PARAMETERS': 8,
        'GISP_MODEL_MAX_POSITIONS': 9,
    },
    'gisp_objective': {
        'GISP_OBJECTIVE_LM': 0,
        'GISP_OBJECTIVE_ANSWER_ONLY': 1,
        'GISP_OBJECTIVE_MARGIN': 2,
    },
    'gisp_normalization': {
        'GISP_NORMALIZATION_REFERENCE': 0,
        'GISP_NORMALIZATION_PAPER': 1,
        'GISP_NORMALIZATION_NONE': 2,
    },
    'gisp_gqa_unit': {
        'GISP_GQA_UNIT_QUERY_HEAD': 0,
        'GISP_GQA_UNIT_KV_GROUP': 1,
    },
    'gisp_method': {
        'GISP_METHOD_GISP': 0,
        'GISP_METHOD_ONESHOT': 1,
        'GISP_METHOD_WANDA_SP': 2,
        'GISP_METHOD_FLAP': 3,
        'GISP_METHOD_LLM_PRUNER': 4,
        'GISP_METHOD_MAGNITUDE': 5,
        'GISP_METHOD_RANDOM': 6,
    },
    'gisp_export_format': {
        'GISP_EXPORT_SLICED': 0,
        'GISP_EXPORT_LLAMA': 1,
        'GISP_EXPORT_GGUF': 2,
        'GISP_EXPORT_DECILM': 3,
    },
}


# Opaque handles: pass ctypes.POINTER(<handle>) objects; NULL is None.


class gisp_status(ctypes.Structure):
    """Opaque struct gisp_status."""


class gisp_cancel_token(ctypes.Structure):
    """Opaque struct gisp_cancel_token."""


class gisp_context(ctypes.Structure):
    """Opaque struct gisp_context."""


class gisp_communicator(ctypes.Structure):
    """Opaque struct gisp_communicator."""


class gisp_model(ctypes.Structure):
    """Opaque struct gisp_model."""


class gisp_load_options(ctypes.Structure):
    """Opaque struct gisp_load_options."""


class gisp_calibration(ctypes.Structure):
    """Opaque struct gisp_calibration."""


class gisp_prune_config(ctypes.Structure):
    """Opaque struct gisp_prune_config."""


class gisp_record(ctypes.Structure):
    """Opaque struct gisp_record."""


class gisp_pruner(ctypes.Structure):
    """Opaque struct gisp_pruner."""


class gisp_progress(ctypes.Structure):
    """Opaque struct gisp_progress."""


HANDLES = (gisp_status, gisp_cancel_token, gisp_context, gisp_communicator, gisp_model, gisp_load_options, gisp_calibration, gisp_prune_config, gisp_record, gisp_pruner, gisp_progress)

# Callbacks
gisp_log_fn = ctypes.CFUNCTYPE(None, gisp_log_level, ctypes.c_char_p, ctypes.c_void_p)
gisp_all_reduce_f32_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t, ctypes.c_void_p)
gisp_all_reduce_f64_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_double), ctypes.c_size_t, ctypes.c_void_p)
gisp_broadcast_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int32, ctypes.c_void_p)
gisp_load_progress_fn = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
gisp_progress_fn = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.POINTER(gisp_progress), ctypes.c_void_p)

CALLBACKS = {
    'gisp_log_fn': (gisp_log_fn, ('level', 'message', 'user_data')),
    'gisp_all_reduce_f32_fn': (gisp_all_reduce_f32_fn, ('data', 'count', 'user_data')),
    'gisp_all_reduce_f64_fn': (gisp_all_reduce_f64_fn, ('data', 'count', 'user_data')),
    'gisp_broadcast_fn': (gisp_broadcast_fn, ('data', 'bytes', 'root', 'user_data')),
    'gisp_load_progress_fn': (gisp_load_progress_fn, ('done', 'total', 'user_data')),
    'gisp_progress_fn': (gisp_progress_fn, ('progress', 'user_data')),
}

FUNCTIONS = {
    'gisp_status_code': (
        gisp_code,
        [
            ctypes.POINTER(gisp_status),
        ],
        ('status',),
    ),
    'gisp_status_message': (
        ctypes.c_char_p,
        [
            ctypes.POINTER(gisp_status),
        ],
        ('status',),
    ),
    'gisp_status_free': (
        None,
        [
            ctypes.POINTER(gisp_status),
        ],
        ('status',),
    ),
    'gisp_code_name': (
        ctypes.c_char_p,
        [
            gisp_code,
        ],
        ('code',),
    ),
    'gisp_string_free': (
        None,
        [
            ctypes.POINTER(ctypes.c_char),
        ],
        ('s',),
    ),
    'gisp_buffer_free': (
        None,
        [
            ctypes.POINTER(ctypes.c_uint8),
        ],
        ('data',),
    ),
    'gisp_version_string': (
        ctypes.c_char_p,
        [],
        (),
    ),
    'gisp_abi_version': (
        ctypes.c_uint32,
        [],
        (),
    ),
    'gisp_set_log_callback': (
        None,
        [
            gisp_log_fn,
            gisp_log_level,
            ctypes.c_void_p,
        ],
        ('fn', 'min_level', 'user_data'),
    ),
    'gisp_cancel_token_create': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(ctypes.POINTER(gisp_cancel_token)),
        ],
        ('out',),
    ),
    'gisp_cancel_token_free': (
        None,
        [
            ctypes.POINTER(gisp_cancel_token),
        ],
        ('token',),
    ),
    'gisp_cancel_token_cancel': (
        None,
        [
            ctypes.POINTER(gisp_cancel_token),
        ],
        ('token',),
    ),
    'gisp_cancel_token_reset': (
        None,
        [
            ctypes.POINTER(gisp_cancel_token),
        ],
        ('token',),
    ),
    'gisp_cancel_token_is_cancelled': (
        ctypes.c_bool,
        [
            ctypes.POINTER(gisp_cancel_token),
        ],
        ('token',),
    ),
    'gisp_context_create': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(ctypes.POINTER(gisp_context)),
        ],
        ('out',),
    ),
    'gisp_context_free': (
        None,
        [
            ctypes.POINTER(gisp_context),
        ],
        ('ctx',),
    ),
    'gisp_context_set_num_threads': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_context),
            ctypes.c_int32,
        ],
        ('ctx', 'n'),
    ),
    'gisp_context_set_memory_budget': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_context),
            ctypes.c_int64,
        ],
        ('ctx', 'bytes'),
    ),
    'gisp_context_set_log_callback': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_context),
            gisp_log_fn,
            gisp_log_level,
            ctypes.c_void_p,
        ],
        ('ctx', 'fn', 'min_level', 'user_data'),
    ),
    'gisp_context_set_cancel_token': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_context),
            ctypes.POINTER(gisp_cancel_token),
        ],
        ('ctx', 'token'),
    ),
    'gisp_context_num_threads': (
        ctypes.c_int32,
        [
            ctypes.POINTER(gisp_context),
        ],
        ('ctx',),
    ),
    'gisp_communicator_create': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_int32,
            ctypes.c_int32,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.POINTER(gisp_communicator)),
        ],
        ('rank', 'size', 'user_data', 'out'),
    ),
    'gisp_communicator_free': (
        None,
        [
            ctypes.POINTER(gisp_communicator),
        ],
        ('comm',),
    ),
    'gisp_communicator_set_all_reduce_f32': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_communicator),
            gisp_all_reduce_f32_fn,
        ],
        ('comm', 'fn'),
    ),
    'gisp_communicator_set_all_reduce_f64': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_communicator),
            gisp_all_reduce_f64_fn,
        ],
        ('comm', 'fn'),
    ),
    'gisp_communicator_set_broadcast': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_communicator),
            gisp_broadcast_fn,
        ],
        ('comm', 'fn'),
    ),
    'gisp_communicator_agree': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_communicator),
            gisp_code,
            ctypes.c_char_p,
        ],
        ('comm', 'local_code', 'local_message'),
    ),
    'gisp_context_set_communicator': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_context),
            ctypes.POINTER(gisp_communicator),
        ],
        ('ctx', 'comm'),
    ),
    'gisp_model_load': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_char_p,
            gisp_device,
            ctypes.c_int,
            ctypes.POINTER(ctypes.POINTER(gisp_model)),
        ],
        ('model_dir', 'device', 'device_index', 'out'),
    ),
    'gisp_model_free': (
        None,
        [
            ctypes.POINTER(gisp_model),
        ],
        ('model',),
    ),
    'gisp_load_options_create': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(ctypes.POINTER(gisp_load_options)),
        ],
        ('out',),
    ),
    'gisp_load_options_free': (
        None,
        [
            ctypes.POINTER(gisp_load_options),
        ],
        ('options',),
    ),
    'gisp_load_options_set_device': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_load_options),
            gisp_device,
            ctypes.c_int,
        ],
        ('options', 'device', 'device_index'),
    ),
    'gisp_load_options_set_working_dtype': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_load_options),
            gisp_dtype,
        ],
        ('options', 'dtype'),
    ),
    'gisp_load_options_set_stream_layers': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_load_options),
            ctypes.c_bool,
        ],
        ('options', 'enabled'),
    ),
    'gisp_load_options_set_context': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_load_options),
            ctypes.POINTER(gisp_context),
        ],
        ('options', 'ctx'),
    ),
    'gisp_load_options_set_progress_callback': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_load_options),
            gisp_load_progress_fn,
            ctypes.c_void_p,
        ],
        ('options', 'fn', 'user_data'),
    ),
    'gisp_model_load_with_options': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_char_p,
            ctypes.POINTER(gisp_load_options),
            ctypes.POINTER(ctypes.POINTER(gisp_model)),
        ],
        ('model_dir', 'options', 'out'),
    ),
    'gisp_model_set_context': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.POINTER(gisp_context),
        ],
        ('model', 'ctx'),
    ),
    'gisp_model_get_int': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            gisp_model_field,
            ctypes.POINTER(ctypes.c_int64),
        ],
        ('model', 'field', 'out'),
    ),
    'gisp_model_config_json': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_char)),
        ],
        ('model', 'json'),
    ),
    'gisp_model_tokenize': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.c_char_p,
            ctypes.c_bool,
            ctypes.POINTER(ctypes.POINTER(ctypes.c_int32)),
            ctypes.POINTER(ctypes.c_size_t),
        ],
        ('model', 'text', 'add_special_tokens', 'ids', 'count'),
    ),
    'gisp_tokens_free': (
        None,
        [
            ctypes.POINTER(ctypes.c_int32),
        ],
        ('ids',),
    ),
    'gisp_calibration_text_windows': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.c_char_p,
            ctypes.c_int64,
            ctypes.c_int64,
            ctypes.c_uint64,
            ctypes.POINTER(ctypes.POINTER(gisp_calibration)),
        ],
        ('model', 'path', 'window_tokens', 'count', 'seed', 'out'),
    ),
    'gisp_calibration_qa_jsonl': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.c_char_p,
            ctypes.c_int64,
            ctypes.POINTER(ctypes.POINTER(gisp_calibration)),
        ],
        ('model', 'path', 'limit', 'out'),
    ),
    'gisp_calibration_multiple_choice_jsonl': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.c_char_p,
            ctypes.c_int64,
            ctypes.POINTER(ctypes.POINTER(gisp_calibration)),
        ],
        ('model', 'path', 'limit', 'out'),
    ),
    'gisp_calibration_from_tokens': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.POINTER(ctypes.c_int32)),
            ctypes.POINTER(ctypes.c_size_t),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
            ctypes.POINTER(ctypes.c_uint8),
            ctypes.POINTER(ctypes.POINTER(gisp_calibration)),
        ],
        ('num_sequences', 'tokens', 'lengths', 'label_masks', 'positive', 'out'),
    ),
    'gisp_calibration_from_model_tokens': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.POINTER(ctypes.c_int32)),
            ctypes.POINTER(ctypes.c_size_t),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
            ctypes.POINTER(ctypes.c_uint8),
            ctypes.POINTER(ctypes.POINTER(gisp_calibration)),
        ],
        ('model', 'num_sequences', 'tokens', 'lengths', 'label_masks', 'positive', 'out'),
    ),
    'gisp_calibration_num_sequences': (
        ctypes.c_size_t,
        [
            ctypes.POINTER(gisp_calibration),
        ],
        ('data',),
    ),
    'gisp_calibration_free': (
        None,
        [
            ctypes.POINTER(gisp_calibration),
        ],
        ('data',),
    ),
    'gisp_objective_name': (
        ctypes.c_char_p,
        [
            gisp_objective,
        ],
        ('value',),
    ),
    'gisp_objective_from_name': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_char_p,
            ctypes.POINTER(gisp_objective),
        ],
        ('name', 'out'),
    ),
    'gisp_normalization_name': (
        ctypes.c_char_p,
        [
            gisp_normalization,
        ],
        ('value',),
    ),
    'gisp_normalization_from_name': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_char_p,
            ctypes.POINTER(gisp_normalization),
        ],
        ('name', 'out'),
    ),
    'gisp_gqa_unit_name': (
        ctypes.c_char_p,
        [
            gisp_gqa_unit,
        ],
        ('value',),
    ),
    'gisp_gqa_unit_from_name': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_char_p,
            ctypes.POINTER(gisp_gqa_unit),
        ],
        ('name', 'out'),
    ),
    'gisp_method_name': (
        ctypes.c_char_p,
        [
            gisp_method,
        ],
        ('value',),
    ),
    'gisp_method_from_name': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_char_p,
            ctypes.POINTER(gisp_method),
        ],
        ('name', 'out'),
    ),
    'gisp_prune_config_create': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(ctypes.POINTER(gisp_prune_config)),
        ],
        ('out',),
    ),
    'gisp_prune_config_free': (
        None,
        [
            ctypes.POINTER(gisp_prune_config),
        ],
        ('config',),
    ),
    'gisp_prune_config_set_objective': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            gisp_objective,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_ratio': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.c_double,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_steps': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.c_int32,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_normalization': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            gisp_normalization,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_gqa_unit': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            gisp_gqa_unit,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_round_channels_to': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.c_int32,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_protect_first_fraction': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.c_double,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_protect_last': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.c_bool,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_batch_size': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.c_int32,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_method': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            gisp_method,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_target_sparsities': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.POINTER(ctypes.c_double),
            ctypes.c_size_t,
        ],
        ('c', 'values', 'n'),
    ),
    'gisp_prune_config_set_seed': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.c_uint64,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_set_compact': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.c_bool,
        ],
        ('c', 'v'),
    ),
    'gisp_prune_config_to_json': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_char)),
        ],
        ('c', 'json'),
    ),
    'gisp_prune_config_sparsity_range': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_prune_config),
            ctypes.POINTER(gisp_model),
            ctypes.POINTER(ctypes.c_double),
            ctypes.POINTER(ctypes.c_double),
        ],
        ('c', 'model', 'dense', 'reachable'),
    ),
    'gisp_record_load': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.POINTER(gisp_record)),
        ],
        ('path', 'out'),
    ),
    'gisp_record_save': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_record),
            ctypes.c_char_p,
        ],
        ('record', 'path'),
    ),
    'gisp_record_to_json': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_record),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_char)),
        ],
        ('record', 'json'),
    ),
    'gisp_record_to_bytes': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_record),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
            ctypes.POINTER(ctypes.c_size_t),
        ],
        ('record', 'data', 'size'),
    ),
    'gisp_record_from_bytes': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(ctypes.c_uint8),
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.POINTER(gisp_record)),
        ],
        ('data', 'size', 'out'),
    ),
    'gisp_record_free': (
        None,
        [
            ctypes.POINTER(gisp_record),
        ],
        ('record',),
    ),
    'gisp_record_num_steps': (
        ctypes.c_int32,
        [
            ctypes.POINTER(gisp_record),
        ],
        ('record',),
    ),
    'gisp_record_num_units': (
        ctypes.c_int64,
        [
            ctypes.POINTER(gisp_record),
        ],
        ('record',),
    ),
    'gisp_record_complete': (
        ctypes.c_bool,
        [
            ctypes.POINTER(gisp_record),
        ],
        ('record',),
    ),
    'gisp_record_unit_steps': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_record),
            ctypes.POINTER(ctypes.c_int32),
            ctypes.c_size_t,
        ],
        ('record', 'out', 'capacity'),
    ),
    'gisp_record_step_sparsity': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_record),
            ctypes.POINTER(ctypes.c_double),
            ctypes.c_size_t,
        ],
        ('record', 'out', 'capacity'),
    ),
    'gisp_record_step_loss': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_record),
            ctypes.POINTER(ctypes.c_double),
            ctypes.c_size_t,
        ],
        ('record', 'out', 'capacity'),
    ),
    'gisp_record_nearest_step': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_record),
            ctypes.c_double,
            ctypes.POINTER(ctypes.c_int32),
        ],
        ('record', 'target', 'step'),
    ),
    'gisp_progress_step': (
        ctypes.c_int32,
        [
            ctypes.POINTER(gisp_progress),
        ],
        ('p',),
    ),
    'gisp_progress_steps': (
        ctypes.c_int32,
        [
            ctypes.POINTER(gisp_progress),
        ],
        ('p',),
    ),
    'gisp_progress_batch': (
        ctypes.c_int64,
        [
            ctypes.POINTER(gisp_progress),
        ],
        ('p',),
    ),
    'gisp_progress_batches': (
        ctypes.c_int64,
        [
            ctypes.POINTER(gisp_progress),
        ],
        ('p',),
    ),
    'gisp_progress_elapsed_seconds': (
        ctypes.c_double,
        [
            ctypes.POINTER(gisp_progress),
        ],
        ('p',),
    ),
    'gisp_progress_eta_seconds': (
        ctypes.c_double,
        [
            ctypes.POINTER(gisp_progress),
        ],
        ('p',),
    ),
    'gisp_progress_sparsity': (
        ctypes.c_double,
        [
            ctypes.POINTER(gisp_progress),
        ],
        ('p',),
    ),
    'gisp_progress_loss': (
        ctypes.c_double,
        [
            ctypes.POINTER(gisp_progress),
        ],
        ('p',),
    ),
    'gisp_pruner_create': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.POINTER(gisp_calibration),
            ctypes.POINTER(gisp_prune_config),
            ctypes.POINTER(gisp_record),
            ctypes.POINTER(ctypes.POINTER(gisp_pruner)),
        ],
        ('model', 'data', 'config', 'resume', 'out'),
    ),
    'gisp_pruner_free': (
        None,
        [
            ctypes.POINTER(gisp_pruner),
        ],
        ('pruner',),
    ),
    'gisp_pruner_set_progress_callback': (
        None,
        [
            ctypes.POINTER(gisp_pruner),
            gisp_progress_fn,
            ctypes.c_void_p,
        ],
        ('pruner', 'fn', 'user_data'),
    ),
    'gisp_pruner_set_checkpoint_path': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_pruner),
            ctypes.c_char_p,
        ],
        ('pruner', 'path'),
    ),
    'gisp_pruner_step': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_pruner),
        ],
        ('pruner',),
    ),
    'gisp_pruner_run': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_pruner),
        ],
        ('pruner',),
    ),
    'gisp_pruner_done': (
        ctypes.c_bool,
        [
            ctypes.POINTER(gisp_pruner),
        ],
        ('pruner',),
    ),
    'gisp_pruner_next_step': (
        ctypes.c_int32,
        [
            ctypes.POINTER(gisp_pruner),
        ],
        ('pruner',),
    ),
    'gisp_pruner_total_steps': (
        ctypes.c_int32,
        [
            ctypes.POINTER(gisp_pruner),
        ],
        ('pruner',),
    ),
    'gisp_pruner_num_units': (
        ctypes.c_int64,
        [
            ctypes.POINTER(gisp_pruner),
        ],
        ('pruner',),
    ),
    'gisp_pruner_record': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_pruner),
            ctypes.POINTER(ctypes.POINTER(gisp_record)),
        ],
        ('pruner', 'out'),
    ),
    'gisp_pruner_scores': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_pruner),
            ctypes.POINTER(ctypes.c_double),
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_size_t),
        ],
        ('pruner', 'out', 'capacity', 'count'),
    ),
    'gisp_pruner_timings_json': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_pruner),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_char)),
        ],
        ('pruner', 'json'),
    ),
    'gisp_model_materialize': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.POINTER(gisp_record),
            ctypes.c_int32,
            ctypes.POINTER(ctypes.POINTER(gisp_model)),
        ],
        ('model', 'record', 'step', 'out'),
    ),
    'gisp_model_export': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.c_char_p,
            gisp_dtype,
        ],
        ('model', 'dir', 'dtype'),
    ),
    'gisp_model_export_format': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            gisp_export_format,
            ctypes.c_char_p,
            gisp_dtype,
            ctypes.POINTER(ctypes.c_int64),
            ctypes.POINTER(ctypes.c_int64),
        ],
        ('model', 'format', 'dir', 'dtype', 'parameters', 'exact_parameters'),
    ),
    'gisp_model_logits': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.POINTER(ctypes.c_int32),
            ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_float),
            ctypes.c_size_t,
        ],
        ('model', 'ids', 'count', 'logits', 'capacity'),
    ),
    'gisp_eval_perplexity': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.c_char_p,
            ctypes.c_int64,
            ctypes.c_int64,
            ctypes.POINTER(ctypes.c_double),
            ctypes.POINTER(ctypes.c_int64),
        ],
        ('model', 'text_path', 'chunk_tokens', 'max_chunks', 'perplexity', 'tokens'),
    ),
    'gisp_eval_multiple_choice': (
        ctypes.POINTER(gisp_status),
        [
            ctypes.POINTER(gisp_model),
            ctypes.c_char_p,
            ctypes.c_int64,
            ctypes.POINTER(ctypes.c_double),
            ctypes.POINTER(ctypes.c_double),
        ],
        ('model', 'jsonl_path', 'limit', 'acc', 'acc_norm'),
    ),
}
