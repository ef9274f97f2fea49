"""Compares a regenerated fixture directory with the checked-in one, with tolerances.

The checked-in fixtures are the source of truth. Regenerating them on another machine must give
the same files up to floating-point rounding: PyTorch's results depend on the CPU (AVX2 or
AVX-512 kernels) and on the BLAS it finds (reference BLAS, OpenBLAS), so a bit-for-bit hash
comparison would pass or fail depending on the machine (docs/numerics.md, "Fixtures").

Rules:
  * the same files; non-safetensors files (config.json, options.json, tokenizer files) identical;
  * in each safetensors file the same tensor names, dtypes and shapes;
  * integer tensors (token ids, targets, pruning steps) identical;
  * float tensors within a relative max-norm tolerance of their dtype: 1e-9 for F64 (results
    computed in double), 1e-4 for F32, 2e-2 for BF16/F16 (one rounding step of the storage
    format near the reference's magnitude). Tensors named `*_native` hold PyTorch's results
    computed natively in bf16/f16 (stored as F32); they get the 16-bit tolerance, since every
    activation of such a run is rounded to 16 bits in a machine-dependent order.
"""

import os

import numpy as np

import safetensors_io

TOLERANCE = {"F64": 1e-9, "F32": 1e-4, "BF16": 2e-2, "F16": 2e-2}


def compare_dirs(fresh_dir, checked_in_dir):
    """Returns a list of human-readable differences (empty when the directories agree)."""
    problems = []
    fresh_files = sorted(os.listdir(fresh_dir))
    want_files = sorted(os.listdir(checked_in_dir))
    if fresh_files != want_files:
        return [f"{checked_in_dir}: files {want_files}, regenerated {fresh_files}"]
    for name in want_files:
        a_path, b_path = os.path.join(fresh_dir, name), os.path.join(checked_in_dir, name)
        if not name.endswith(".safetensors"):
            with open(a_path, "rb") as a, open(b_path, "rb") as b:
                if a.read() != b.read():
                    problems.append(f"{b_path}: content differs")
            continue
        got, got_types = safetensors_io.load_file_with_dtypes(a_path)
        want, want_types = safetensors_io.load_file_with_dtypes(b_path)
        if set(got) != set(want):
            problems.append(f"{b_path}: tensors {sorted(set(want) ^ set(got))} differ")
            continue
        for key, w in want.items():
            g = got[key]
            where = f"{b_path}:{key}"
            if got_types[key] != want_types[key] or g.shape != w.shape:
                problems.append(f"{where}: {got_types[key]}{list(g.shape)} vs "
                                f"{want_types[key]}{list(w.shape)}")
                continue
            tol = TOLERANCE.get(want_types[key])
            if tol is not None and key.endswith("_native"):
                tol = TOLERANCE["BF16"]
            if tol is None:  # integers
                if not np.array_equal(g, w):
                    problems.append(f"{where}: integer values differ")
                continue
            g64, w64 = g.astype(np.float64), w.astype(np.float64)
            if not (np.isfinite(g64) == np.isfinite(w64)).all():
                problems.append(f"{where}: non-finite values differ")
                continue
            finite = np.isfinite(w64)
            scale = np.max(np.abs(w64[finite]), initial=0.0)
            err = np.max(np.abs(g64[finite] - w64[finite]), initial=0.0)
            if err > tol * max(scale, 1e-30):
                problems.append(f"{where}: max error {err:.3e} > {tol:g} x max {scale:.3e}")
    return problems
