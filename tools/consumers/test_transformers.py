"""The uniform `llama` export loads in HF transformers (current 5.x) with no missing, unexpected
or mismatched weight, computes gisp's logits (rel_inf <= 1e-4 in f32) and gisp's perplexity at
20/30/40/50% sparsity on the tiny model; the sliced export is refused by transformers, never
loaded with wrong weights."""
import numpy as np
import pytest

from conftest import TARGETS, TINY

CHUNK = 128


def torch_perplexity(torch, model, ids):
    """gisp's protocol: non-overlapping chunks of 128 tokens, mean NLL over every prediction."""
    n = len(ids) // CHUNK
    x = torch.tensor(np.asarray(ids[: n * CHUNK], dtype=np.int64).reshape(n, CHUNK))
    nll, count = 0.0, 0
    with torch.no_grad():
        for b in range(0, n, 16):
            logits = model(x[b:b + 16]).logits.double()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            nll -= logp.gather(-1, x[b:b + 16, 1:, None]).sum().item()
            count += logp.shape[0] * logp.shape[1]
    return float(np.exp(nll / count))


@pytest.mark.parametrize("target", TARGETS)
def test_uniform_export_matches_gisp(target, gisp_mod, dense, record, eval_ids, tmp_path):
    transformers = require_transformers()
    import torch
    torch.set_num_threads(2)
    step = record.nearest_step(target)
    with dense.materialize(record, step) as sub:
        out = tmp_path / "llama"
        written, exact = sub.export_format(str(out), "llama", gisp_mod.DType.F32)
        assert exact == sub.total_parameters
        # Padded only up to the widest kept layer (never beyond the dense model; on the tiny
        # model the protected last layer is dense, so the uniform export is the dense size).
        assert exact < written <= dense.total_parameters
        model, info = transformers.AutoModelForCausalLM.from_pretrained(
            str(out), dtype=torch.float32, output_loading_info=True)
        model.eval()
        assert not info["missing_keys"], info
        assert not info["unexpected_keys"], info
        assert not info["mismatched_keys"], info
        assert not info.get("error_msgs"), info
        assert sum(p.numel() for p in model.parameters()) == written

        ids = eval_ids[:CHUNK]
        want = sub.logits(ids)
        with torch.no_grad():
            got = model(torch.tensor(np.asarray(ids, np.int64)[None])).logits[0].numpy()
        rel_inf = np.abs(got - want).max() / np.abs(want).max()
        print(f"target {target}: step {step}, parameters {written} (exact {exact}), "
              f"logits rel_inf {rel_inf:.3e}")
        assert rel_inf <= 1e-4

        ppl_gisp, _ = sub.perplexity(str(TINY / "eval.txt"), CHUNK)
        ppl_hf = torch_perplexity(torch, model, eval_ids)
        print(f"target {target}: perplexity gisp {ppl_gisp:.6f} transformers {ppl_hf:.6f}")
        # Equal up to f32 summation order (one 3.5M-parameter model, 34k tokens).
        assert abs(ppl_hf - ppl_gisp) <= 1e-5 * ppl_gisp


def test_sliced_export_is_refused(gisp_mod, dense, record, tmp_path):
    transformers = require_transformers()
    with dense.materialize(record, record.nearest_step(0.3)) as sub:
        out = tmp_path / "sliced"
        sub.export_format(str(out), "sliced")
        with pytest.raises(Exception) as e:
            transformers.AutoModelForCausalLM.from_pretrained(str(out))
        assert "gisp_sliced" in str(e.value)


def require_transformers():
    from conftest import require
    require("torch")
    return require("transformers")
