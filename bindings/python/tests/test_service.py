"""The service-oriented API through Python: cancel tokens, contexts, load options and progress,
per-context logging, concurrent models on Python threads, checked calibration tokens.

A test whose functions the loaded library does not export yet is skipped with the names;
test_ffi.py::test_the_library_exports_every_header_function fails meanwhile, so the gap is
never silent."""
import gc
import logging
import pathlib
import re
import threading

import numpy as np
import pytest

import gisp
from gisp import _lib

ROOT = pathlib.Path(__file__).resolve().parents[3]
TINY = ROOT / "testdata" / "tiny"
FIXTURE = ROOT / "testdata" / "llama" / "llama3_gqa_headdim_f32"
MHA = ROOT / "testdata" / "llama" / "llama2_mha_f32"
WAIT = 60  # seconds; a handshake that takes longer is a hang


def needs(*names):
    missing = [n for n in names if not _lib.has(n)]
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return pytest.mark.skipif(bool(missing), reason=f"{_lib.path} lacks {shown}; rebuild libgisp "
                              "(bazel build //c_api:shared_library) or set GISP_LIBRARY")


SERVICE = ("gisp_cancel_token_create", "gisp_cancel_token_cancel", "gisp_cancel_token_reset",
           "gisp_cancel_token_is_cancelled", "gisp_context_create", "gisp_context_set_num_threads",
           "gisp_context_set_memory_budget", "gisp_context_set_log_callback",
           "gisp_context_set_cancel_token", "gisp_context_num_threads", "gisp_load_options_create",
           "gisp_load_options_set_device", "gisp_load_options_set_working_dtype",
           "gisp_load_options_set_context", "gisp_load_options_set_progress_callback",
           "gisp_model_load_with_options", "gisp_model_set_context",
           "gisp_calibration_from_model_tokens")


def token_data(vocab, n=4, length=12):
    return [[(i * 37 + t * 11) % vocab for t in range(length)] for i in range(n)]


def small_config(**extra):
    return gisp.PruneConfig(steps=4, ratio=0.3, protect_first_fraction=0.0, protect_last=False,
                            **extra)


def calib(model):
    return gisp.Calibration.from_model_tokens(model, token_data(model.vocab_size, n=6, length=16))


def prune_bytes(path, context=None, config=small_config):
    """The record of a full small run on `path` under `context`."""
    with gisp.Model.load(path, context=context) as model:
        data = calib(model)
        with gisp.Pruner(model, data, config()) as pruner:
            pruner.run()
            return pruner.record().to_bytes()


@needs(*SERVICE[:4])
def test_cancel_token_flag():
    token = gisp.CancelToken()
    assert not token.cancelled
    token.cancel()
    token.cancel()  # repeatable
    assert token.cancelled
    token.reset()
    assert not token.cancelled
    token.close()
    token.close()
    with pytest.raises(ValueError):
        token.cancel()


@needs(*SERVICE)
def test_context_settings_are_validated():
    ctx = gisp.Context(num_threads=1)
    assert ctx.num_threads == 1
    ctx.num_threads = 0
    assert ctx.num_threads == gisp.default_num_threads() >= 1
    with pytest.raises(gisp.Error) as e:
        ctx.num_threads = -1
    assert e.value.code == gisp.Code.INVALID_ARGUMENT
    with pytest.raises(gisp.Error) as e:
        ctx.memory_budget = -1
    assert e.value.code == gisp.Code.INVALID_ARGUMENT
    ctx.memory_budget = 1 << 30
    assert ctx.memory_budget == 1 << 30
    token = gisp.CancelToken()
    ctx.cancel_token = token
    token.close()  # the context holds its own reference
    ctx.cancel_token = None
    with pytest.raises(TypeError):
        ctx.set_log(42)


@needs(*SERVICE)
def test_cancel_a_running_prune_from_another_thread():
    uninterrupted = prune_bytes(FIXTURE)
    token = gisp.CancelToken()
    ctx = gisp.Context(cancel_token=token)
    reached, cancelled = threading.Event(), threading.Event()
    result = {}

    def progress(p):
        # Hold the run inside step 1 (one step complete) until the main thread has cancelled.
        if p.step == 1 and 0 < p.batch < p.batches and not reached.is_set():
            reached.set()
            assert cancelled.wait(WAIT)
        return True

    def worker():
        try:
            pruner.run(progress=progress)
            result["outcome"] = "finished"
        except BaseException as e:
            result["outcome"] = e

    with gisp.Model.load(FIXTURE, context=ctx) as model:
        data = calib(model)
        with gisp.Pruner(model, data, small_config()) as pruner:
            thread = threading.Thread(target=worker)
            thread.start()
            assert reached.wait(WAIT), "the run never reached step 1"
            token.cancel()  # from this (the main) thread while the worker is inside the run
            cancelled.set()
            thread.join(WAIT)
            assert not thread.is_alive()
            outcome = result["outcome"]
            assert isinstance(outcome, gisp.CancelledError), outcome
            assert outcome.code == gisp.Code.CANCELLED
            partial = pruner.record()
    assert partial.num_steps == 1 and not partial.complete
    assert gisp.Record.from_bytes(partial.to_bytes()).num_steps == 1
    assert partial.step_sparsity().shape == (1,)
    # The partial record is valid: resuming it (the token lowered) gives the uninterrupted run.
    token.reset()
    with gisp.Model.load(FIXTURE, context=ctx) as model:
        data = calib(model)
        with gisp.Pruner(model, data, small_config(), resume=partial) as pruner:
            assert pruner.next_step == 1
            pruner.run()
            assert pruner.record().to_bytes() == uninterrupted


@needs(*SERVICE)
def test_a_raised_token_stops_load_calibration_and_pruning():
    token = gisp.CancelToken()
    ctx = gisp.Context(cancel_token=token)
    token.cancel()
    with pytest.raises(gisp.CancelledError):
        gisp.Model.load(FIXTURE, context=ctx)
    token.reset()
    with gisp.Model.load(TINY / "model", context=ctx) as model:
        token.cancel()
        with pytest.raises(gisp.CancelledError):
            gisp.Calibration.text_windows(model, TINY / "calib.txt", window_tokens=16, count=4)
        token.reset()
        data = gisp.Calibration.text_windows(model, TINY / "calib.txt", window_tokens=16, count=4)
        with gisp.Pruner(model, data, small_config()) as pruner:
            token.cancel()
            with pytest.raises(gisp.CancelledError):
                pruner.run()
            assert pruner.record().num_steps == 0


@needs(*SERVICE)
def test_load_progress_is_called_and_can_cancel():
    calls = []
    with gisp.Model.load(FIXTURE, progress=lambda done, total: calls.append((done, total))) as m:
        assert m.num_layers == 2
    assert calls == [(1, 2), (2, 2)]

    calls.clear()

    def stop_after_first(done, total):
        calls.append(done)
        return done < 1
    with pytest.raises(gisp.CancelledError) as e:
        gisp.Model.load(FIXTURE, progress=stop_after_first)
    assert e.value.code == gisp.Code.CANCELLED and calls == [1]

    def boom(done, total):
        raise KeyError("from load progress")
    options = gisp.LoadOptions(progress=boom)
    with pytest.raises(KeyError):
        gisp.Model.load(FIXTURE, options)
    with pytest.raises(KeyError):  # options are reusable, and the error is not sticky
        gisp.load_model(FIXTURE, options)


@needs(*SERVICE)
def test_load_options_are_validated():
    with pytest.raises(gisp.Error) as e:
        with gisp.Model.load(FIXTURE, working_dtype=gisp.DType.F16):  # CPU: no 16-bit compute
            pass
    assert e.value.code == gisp.Code.UNIMPLEMENTED
    with gisp.Model.load(FIXTURE, device="cpu", working_dtype=gisp.DType.F32) as model:
        assert model.num_layers == 2
    with pytest.raises(TypeError):
        gisp.Model(FIXTURE, options=gisp.LoadOptions(), working_dtype=gisp.DType.F32)


@needs(*SERVICE)
def test_per_context_log_callback_receives_messages():
    process_wide, mine = [], []
    gisp.set_log_callback(lambda level, msg: process_wide.append(msg), gisp.LogLevel.DEBUG)
    try:
        ctx = gisp.Context(log=lambda level, msg: mine.append((level, msg)),
                           log_level=gisp.LogLevel.DEBUG)
        with gisp.Model.load(FIXTURE, context=ctx) as model:
            del ctx
            gc.collect()  # the model keeps the callback alive, not the Context object
            data = gisp.Calibration.from_model_tokens(model, token_data(model.vocab_size))
            with gisp.Pruner(model, data, small_config()) as pruner:
                pruner.run()
    finally:
        gisp.set_log_callback(None)
    assert mine, "no log message reached the context's callback during load, calibration, run"
    assert all(isinstance(level, gisp.LogLevel) and isinstance(msg, str) for level, msg in mine)
    assert process_wide == [], "messages of calls under a context leaked to the process callback"


@needs(*SERVICE)
def test_context_log_routes_to_the_logging_module(caplog):
    caplog.set_level(logging.DEBUG, logger="gisp")
    ctx = gisp.Context(log="logging", log_level=gisp.LogLevel.DEBUG)
    with gisp.Model.load(FIXTURE, context=ctx) as model:
        data = gisp.Calibration.from_model_tokens(model, token_data(model.vocab_size))
        with gisp.Pruner(model, data, small_config()) as pruner:
            pruner.step()
    records = [r for r in caplog.records if r.name == "gisp"]
    assert records and all(r.levelno in (10, 20, 30, 40) for r in records)


@needs(*SERVICE)
def test_memory_budget_reaches_the_run():
    ctx = gisp.Context(memory_budget=1)
    with gisp.Model.load(FIXTURE, context=ctx) as model:
        data = gisp.Calibration.from_model_tokens(model, token_data(model.vocab_size))
        with pytest.raises(gisp.Error) as e:  # refused when the pruner sizes its pass, or later
            with gisp.Pruner(model, data, small_config()) as pruner:
                pruner.step()
    assert e.value.code == gisp.Code.RESOURCE_EXHAUSTED and "budget" in e.value.message
    ctx.memory_budget = 0  # automatic sizing again; the model keeps its copy of budget 1
    with gisp.Model.load(FIXTURE, context=ctx) as model:
        data = gisp.Calibration.from_model_tokens(model, token_data(model.vocab_size))
        with gisp.Pruner(model, data, small_config()) as pruner:
            pruner.step()


@needs(*SERVICE)
def test_model_set_context_and_materialized_models_inherit_it(tmp_path):
    token = gisp.CancelToken()
    with gisp.Model(FIXTURE) as model:
        data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
        with gisp.Pruner(model, data, small_config()) as pruner:
            pruner.step()
            record = pruner.record()
    with gisp.Model(FIXTURE) as model:
        model.set_context(gisp.Context(cancel_token=token))
        with model.materialize(record, 0) as small:
            token.cancel()
            with pytest.raises(gisp.CancelledError):
                small.export_format(tmp_path / "out", "sliced")
            assert not (tmp_path / "out").exists()
            with pytest.raises(gisp.CancelledError):
                model.materialize(record, 0)
            model.set_context(None)
            with model.materialize(record, 0) as again:  # no context: not cancelled
                assert again.total_parameters == small.total_parameters
            small.set_context(None)
            small.export_format(tmp_path / "out", "sliced")


@needs(*SERVICE)
def test_two_models_on_two_threads_equal_sequential_runs():
    def config():
        return gisp.PruneConfig(steps=3, ratio=0.5, protect_first_fraction=0.0,
                                protect_last=False, batch_size=2)
    jobs = [FIXTURE, MHA]
    sequential = [prune_bytes(p, gisp.Context(num_threads=1), config) for p in jobs]
    results, errors, callback_threads = [None, None], [], [set(), set()]

    def worker(i):
        try:
            ctx = gisp.Context(num_threads=1)
            with gisp.Model.load(jobs[i], context=ctx) as model:
                data = calib(model)
                with gisp.Pruner(model, data, config()) as pruner:
                    pruner.run(progress=lambda p: callback_threads[i].add(
                        threading.current_thread()))
                    results[i] = pruner.record().to_bytes()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 5)
    assert not any(t.is_alive() for t in threads) and errors == []
    # Each run called back on the thread that started it.
    assert callback_threads == [{threads[0]}, {threads[1]}]
    assert results == sequential


@needs("gisp_calibration_from_model_tokens")
def test_calibration_from_model_tokens_checks_ids():
    with gisp.Model(FIXTURE) as model:
        vocab = model.vocab_size
        good = token_data(vocab)
        data = gisp.Calibration.from_model_tokens(model, good, label_masks=[
            [1] * len(s) for s in good], positive=[1, 0, 1, 0])
        assert len(data) == 4
        bad = [list(s) for s in good]
        bad[2][5] = vocab  # one past the vocabulary
        with pytest.raises(gisp.Error) as e:
            gisp.Calibration.from_model_tokens(model, bad)
        msg = e.value.message
        assert e.value.code == gisp.Code.INVALID_ARGUMENT
        assert re.search(r"sequence\D{0,4}2\b", msg) and re.search(r"position\D{0,4}5\b", msg), \
            msg
        bad[2][5] = -1
        with pytest.raises(gisp.Error) as e:
            gisp.Calibration.from_model_tokens(model, bad)
        assert e.value.code == gisp.Code.INVALID_ARGUMENT
        too_long = [[1] * (model.max_positions + 1)]
        with pytest.raises(gisp.Error) as e:
            gisp.Calibration.from_model_tokens(model, too_long)
        assert e.value.code == gisp.Code.INVALID_ARGUMENT and re.search(r"sequence\D{0,4}0\b",
                                                                        e.value.message)
        # Shapes are checked in Python before the call.
        with pytest.raises(ValueError):
            gisp.Calibration.from_model_tokens(model, good, positive=[1])


@needs("gisp_pruner_num_units")
def test_pruner_num_units_is_the_score_capacity():
    with gisp.Model(FIXTURE) as model:
        data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
        with gisp.Pruner(model, data, small_config()) as pruner:
            n = pruner.num_units
            # GQA fixture, query-head units: 2 layers x (6 heads + 52 channels).
            assert n == 2 * (6 + 52)
            pruner.step()
            assert pruner.scores().shape == (n,) == (pruner.record().num_units,)


@needs("gisp_tokens_free")
def test_token_ids_round_trip_through_gisp_tokens_free():
    with gisp.Model(TINY / "model") as model:
        for _ in range(50):  # a wrong free would show up under ASan or as heap corruption
            ids = model.tokenize("hello world", add_special_tokens=False)
        assert ids.dtype == np.int32 and len(ids) >= 2
        with_bos = model.tokenize("hello world")
        assert len(with_bos) == len(ids) + 1
