#!/usr/bin/python3
"""Pure-python safetensors reader/writer (numpy + struct + json only).

The `safetensors` package is not installed for Debian's /usr/bin/python3, and the test oracle
must not depend on the C++ reader it checks, so this module implements the file format directly:

    [u64 little-endian N][N bytes of JSON header, space padded][raw little-endian tensor data]

The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
relative to the start of the data section) plus an optional "__metadata__" {str: str} map.

Supported dtypes: F64, F32, BF16, F16, I64, I32, U8, BOOL. numpy has no bfloat16, so BF16 data is
handed around as uint16 bit patterns; `bf16_bits_to_f32` widens them exactly and
`f32_to_bf16_bits` narrows with round-to-nearest-even (the rounding torch uses).
"""

import json
import os
import struct

import numpy as np

# safetensors dtype name -> numpy dtype of the stored bytes (BF16 is kept as raw uint16 bits).
_NP_DTYPE = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}

# Default safetensors dtype for a numpy array (uint16 is NOT guessed as BF16: say so explicitly).
_FROM_NP = {
    np.dtype("float64"): "F64",
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}


def bf16_bits_to_f32(bits):
    """uint16 bfloat16 bit patterns -> float32 array (exact)."""
    bits = np.asarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def f32_to_bf16_bits(x):
    """float32 array -> uint16 bfloat16 bit patterns, round to nearest, ties to even.

    NaN stays NaN (quiet); infinities and overflow to infinity behave like torch's conversion.
    """
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    u = x.view(np.uint32).astype(np.uint64)
    lsb = (u >> np.uint64(16)) & np.uint64(1)
    rounded = ((u + np.uint64(0x7FFF) + lsb) >> np.uint64(16)).astype(np.uint16)
    nan = np.isnan(x)
    if nan.any():
        rounded = np.where(nan, ((u >> np.uint64(16)) | np.uint64(0x0040)).astype(np.uint16),
                           rounded)
    return rounded.astype(np.uint16)


def to_storage(array, dtype):
    """Converts a numpy array to the numpy representation stored for safetensors `dtype`.

    For BF16 a float array is rounded to bf16 bits; a uint16 array is taken as bits already.
    """
    array = np.asarray(array)
    if dtype == "BF16":
        if array.dtype == np.uint16:
            return array
        return f32_to_bf16_bits(array.astype(np.float32))
    if dtype not in _NP_DTYPE:
        raise ValueError(f"unsupported safetensors dtype {dtype!r}")
    return array.astype(_NP_DTYPE[dtype])


def read_header(path):
    """Returns (header dict, byte offset of the data section) of a safetensors file."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"{path}: file shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        size = os.fstat(f.fileno()).st_size
        if n > size - 8:
            raise ValueError(f"{path}: header length {n} exceeds file size {size}")
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def load_file(path, raw_bf16=False):
    """Reads every tensor of a safetensors file.

    Returns {name: numpy array}. BF16 tensors are widened to float32 (exact) unless raw_bf16 is
    true, in which case they come back as uint16 bit patterns. Use `load_file_with_dtypes` to
    also learn each tensor's stored dtype.
    """
    tensors, _ = load_file_with_dtypes(path, raw_bf16=raw_bf16)
    return tensors


def load_file_with_dtypes(path, raw_bf16=False):
    """Like load_file, but returns the pair (tensors, {name: safetensors dtype string})."""
    header, data_start = read_header(path)
    header.pop("__metadata__", None)
    with open(path, "rb") as f:
        f.seek(data_start)
        data = f.read()
    tensors, dtypes = {}, {}
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in _NP_DTYPE:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {dtype!r}")
        shape = [int(s) for s in info["shape"]]
        begin, end = (int(o) for o in info["data_offsets"])
        np_dtype = _NP_DTYPE[dtype]
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * np_dtype.itemsize or end > len(data) or begin < 0:
            raise ValueError(f"{path}: tensor {name!r} has data_offsets {begin}..{end} that do "
                             f"not match shape {shape} x {dtype} (data section {len(data)} bytes)")
        arr = np.frombuffer(data, dtype=np_dtype, count=count, offset=begin).reshape(shape).copy()
        if dtype == "BF16" and not raw_bf16:
            arr = bf16_bits_to_f32(arr)
        tensors[name] = arr
        dtypes[name] = dtype
    return tensors, dtypes


def serialize(tensors, dtypes=None, metadata=None):
    """Builds the bytes of a safetensors file.

    tensors: {name: numpy array}; dtypes: optional {name: safetensors dtype} to convert to
    (e.g. "BF16" or "F16" for float arrays); otherwise the dtype follows the array's.
    Tensors are laid out in sorted name order; the header is padded with spaces so that the data
    section starts 8-byte aligned (as the reference writer does).
    """
    dtypes = dict(dtypes or {})
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        dtype = dtypes.get(name)
        if dtype is None:
            if arr.dtype not in _FROM_NP:
                raise ValueError(f"tensor {name!r}: numpy dtype {arr.dtype} needs an explicit "
                                 "safetensors dtype")
            dtype = _FROM_NP[arr.dtype]
        stored = np.ascontiguousarray(to_storage(arr, dtype))
        buf = stored.tobytes(order="C")
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(buf)]}
        chunks.append(buf)
        offset += len(buf)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    head += b" " * ((8 - (8 + len(head)) % 8) % 8)  # data section starts 8-byte aligned
    return struct.pack("<Q", len(head)) + head + b"".join(chunks)


def save_file(tensors, path, dtypes=None, metadata=None):
    """Writes a safetensors file atomically (temp file + rename). See `serialize`."""
    blob = serialize(tensors, dtypes=dtypes, metadata=metadata)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, path)
    return len(blob)


def tensor_nbytes(shape, dtype):
    """Bytes a tensor of `shape` takes when stored as safetensors `dtype`."""
    return int(np.prod(shape, dtype=np.int64)) * _NP_DTYPE[dtype].itemsize
