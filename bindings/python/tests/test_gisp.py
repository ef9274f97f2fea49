"""Tests of the Python bindings (run by tools/test.sh with Debian's /usr/bin/python3 -m pytest).

The parity test compares with the record the CLI wrote for the same configuration
($GISP_CLI_RECORD, produced by tools/ci/cli_reference_record.sh)."""
import io
import os
import pathlib

import numpy as np
import pytest

import gisp

ROOT = pathlib.Path(__file__).resolve().parents[3]
TINY = ROOT / "testdata" / "tiny"
FIXTURE = ROOT / "testdata" / "llama" / "llama3_gqa_headdim_f32"
# Must match tools/ci/cli_reference_record.sh.
PARITY = dict(window_tokens=64, count=8, seed=0)
PARITY_CONFIG = dict(ratio=0.5, steps=3, batch_size=4)


def token_data(vocab, n=4, length=12):
    return [[(i * 37 + t * 11) % vocab for t in range(length)] for i in range(n)]


def small_config(**extra):
    return gisp.PruneConfig(steps=4, ratio=0.3, protect_first_fraction=0.0, protect_last=False,
                            **extra)


def test_version_and_abi():
    assert gisp.version() == "0.1.0"


def test_bad_path_raises_not_found_naming_the_path():
    with pytest.raises(gisp.Error) as e:
        gisp.Model("/nonexistent/model")
    assert e.value.code == gisp.Code.NOT_FOUND
    assert "/nonexistent/model" in e.value.message


def test_bad_option_values_raise_invalid_argument():
    config = gisp.PruneConfig()
    with pytest.raises(gisp.Error) as e:
        config.set("ratio", 1.5)
    assert e.value.code == gisp.Code.INVALID_ARGUMENT and "ratio" in e.value.message
    with pytest.raises(gisp.Error):
        config.set("steps", 0)
    with pytest.raises(gisp.Error) as e:
        config.set("no_such_option", 1)
    assert "no_such_option" in e.value.message
    assert config.to_dict()["ratio"] == pytest.approx(0.7)  # unchanged after rejections


def test_option_names_come_from_the_library():
    assert gisp.Objective.from_name("answer-only") == gisp.Objective.ANSWER_ONLY
    assert gisp.Normalization.NONE.gisp_name == "none"
    assert [u.gisp_name for u in gisp.GqaUnit] == ["query-head", "kv-group"]
    config = gisp.PruneConfig(objective="margin", gqa_unit="kv-group")
    assert config.to_dict()["objective"] == "OBJECTIVE_MARGIN"
    with pytest.raises(gisp.Error) as e:
        config.set("normalization", "Paper")
    assert e.value.code == gisp.Code.INVALID_ARGUMENT
    assert 'normalization must be reference, paper or none, got "Paper"' in e.value.message


def test_baseline_method_runs_one_step_per_target():
    assert gisp.Method.from_name("wanda-sp") == gisp.Method.WANDA_SP
    assert gisp.Method.LLM_PRUNER.gisp_name == "llm-pruner"
    config = small_config(method="magnitude", target_sparsities=[0.3, 0.1, 0.2], seed=3)
    assert config.to_dict()["method"] == "METHOD_MAGNITUDE"
    assert config.to_dict()["target_sparsities"] == [0.3, 0.1, 0.2]
    with pytest.raises(gisp.Error) as e:
        config.set("target_sparsities", [0.2, 1.0])
    assert e.value.code == gisp.Code.INVALID_ARGUMENT and "target sparsities" in e.value.message
    with pytest.raises(gisp.Error) as e:
        config.set("method", "wanda")
    assert "method must be gisp, oneshot, wanda-sp" in e.value.message
    with gisp.Model(FIXTURE) as model:
        data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
        with gisp.Pruner(model, data, config) as pruner:
            pruner.run()
            record = pruner.record()
    assert record.complete and record.num_steps == 3
    sparsity = record.step_sparsity()
    assert np.all(np.diff(sparsity) >= 0)
    assert np.abs(sparsity - [0.1, 0.2, 0.3]).max() < 0.08


def test_record_is_byte_identical_to_the_cli():
    reference = os.environ.get("GISP_CLI_RECORD")
    if not reference:
        pytest.skip("GISP_CLI_RECORD not set (tools/test.sh produces it)")
    with gisp.Model(TINY / "model") as model:
        data = gisp.Calibration.text_windows(model, TINY / "calib.txt", **PARITY)
        with gisp.Pruner(model, data, gisp.PruneConfig(**PARITY_CONFIG)) as pruner:
            pruner.run()
            ours = pruner.record().to_bytes()
    assert ours == pathlib.Path(reference).read_bytes()


def test_streamed_layers_give_the_resident_record():
    # Layer streaming (LoadOptions.stream_layers) runs the same kernels on the same values.
    records = []
    for stream in (False, True):
        with gisp.Model.load(FIXTURE, stream_layers=stream) as model:
            data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
            with gisp.Pruner(model, data, small_config()) as pruner:
                pruner.run()
                records.append(pruner.record().to_bytes())
    assert records[0] == records[1]


def test_run_record_arrays_materialize_and_export(tmp_path):
    with gisp.Model(FIXTURE) as model:
        assert model.num_layers == 2 and model.vocab_size == 101
        before = model.total_parameters
        data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
        assert len(data) == 4
        # Before the run: the dense model's own sparsity (norm weights) and the reachable bound.
        dense, reachable = small_config().sparsity_range(model)
        assert 0 < dense < 0.1 and dense < reachable < 1
        with gisp.Pruner(model, data, small_config(), checkpoint=tmp_path / "r.pb") as pruner:
            pruner.run()
            record = pruner.record()
            scores = pruner.scores()
            timings = pruner.timings()
            assert [t["step"] for t in timings] == [0, 1, 2, 3]
            assert all(t["seconds"] >= t["gradient_seconds"] > 0 for t in timings)
        assert record.complete and record.num_steps == 4
        steps = record.unit_steps()
        assert steps.dtype == np.int32 and steps.shape == (record.num_units,)
        assert (steps >= 0).any() and (steps < 4).all()
        sparsity = record.step_sparsity()
        assert np.all(np.diff(sparsity) >= 0) and sparsity[-1] > 0
        assert sparsity[0] > dense and sparsity[-1] <= reachable
        assert scores.shape == (record.num_units,)
        saved = gisp.Record.load(tmp_path / "r.pb")
        assert saved.to_bytes() == record.to_bytes()
        assert gisp.Record.from_bytes(record.to_bytes()).num_units == record.num_units
        assert '"pruned_at_step"' in record.to_json()
        with model.materialize(record, 3) as small:
            assert small.total_parameters < before
            small.export(tmp_path / "small")
            # The uniform export reloads in gisp with the sliced model's logits; a non-empty
            # directory is refused.
            n, exact = small.export_format(tmp_path / "uniform", "llama", gisp.DType.F32)
            assert exact == small.total_parameters and n >= exact
            with pytest.raises(gisp.Error) as e:
                small.export_format(tmp_path / "uniform", "llama")
            assert e.value.code == gisp.Code.FAILED_PRECONDITION and "not empty" in e.value.message
            ids = np.arange(1, 9) % small.vocab_size
            with gisp.Model(tmp_path / "uniform") as uniform:
                a, b = small.logits(ids), uniform.logits(ids)
                assert np.abs(a - b).max() <= 1e-5 * np.abs(a).max()
        with gisp.Model(tmp_path / "small") as reloaded:
            assert "gisp_per_layer_config" in reloaded.config()


def test_cancellation_returns_cancelled_and_a_resumable_record(tmp_path):
    with gisp.Model(FIXTURE) as full_model:
        data = gisp.Calibration.from_tokens(token_data(full_model.vocab_size))
        with gisp.Pruner(full_model, data, small_config()) as pruner:
            pruner.run()
            uninterrupted = pruner.record().to_bytes()
    with gisp.Model(FIXTURE) as model:
        data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
        with gisp.Pruner(model, data, small_config()) as pruner:
            with pytest.raises(gisp.CancelledError) as e:
                pruner.run(progress=lambda p: p.step < 2)
            assert e.value.code == gisp.Code.CANCELLED
            partial = pruner.record()
            assert partial.num_steps == 2 and not partial.complete
    with gisp.Model(FIXTURE) as model:
        data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
        with gisp.Pruner(model, data, small_config(), resume=partial) as pruner:
            assert pruner.next_step == 2
            pruner.run()
            assert pruner.record().to_bytes() == uninterrupted


def test_exceptions_in_callbacks_propagate():
    with gisp.Model(FIXTURE) as model:
        data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
        with gisp.Pruner(model, data, small_config()) as pruner:
            def boom(p):
                raise KeyError("from callback")
            with pytest.raises(KeyError):
                pruner.step(progress=boom)


def test_progress_display_writes_lines():
    out = io.StringIO()
    display = gisp.progress.ProgressDisplay(out)
    with gisp.Model(FIXTURE) as model:
        data = gisp.Calibration.from_tokens(token_data(model.vocab_size))
        with gisp.Pruner(model, data, small_config()) as pruner:
            pruner.run(progress=display)
    assert out.getvalue().count("step ") == 4


def test_perplexity_and_tokenizer():
    with gisp.Model(TINY / "model") as model:
        ids = model.tokenize("In the beginning God created the heaven and the earth.")
        assert ids.dtype == np.int32 and len(ids) > 3
        ppl, tokens = model.perplexity(TINY / "eval.txt", chunk_tokens=128, max_chunks=4)
        assert tokens == 4 * 127 and 1 < ppl < 1000


def test_closed_handles_raise():
    model = gisp.Model(FIXTURE)
    model.close()
    model.close()  # idempotent
    with pytest.raises(ValueError):
        _ = model.num_layers
