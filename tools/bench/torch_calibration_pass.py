#!/usr/bin/python3
"""PyTorch side of //tools/bench:calibration_pass: the same work as gisp's calibration pass.

Same shapes, fp32, the same thread count, gradients only for the decoder linear weights
(embeddings, norms and lm_head frozen), loss = mean next-token cross-entropy, gradients
accumulated over the timed batches. The model is either HF transformers' LlamaForCausalLM
(`--model hf`, what users of the Python pruners run; its default attention implementation) or
the project's lean PyTorch reference (`--model reference`, tools/reference/torch_llama.py).
Prints progress lines and finally `tokens_per_s=<value>`.
"""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import torch_llama  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 12), ("hidden", 768), ("heads", 12), ("kv_heads", 4),
                          ("ffn", 2048), ("vocab", 32000), ("seq", 256), ("batch", 4),
                          ("batches", 4), ("threads", 2)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--model", choices=("hf", "reference"), default="hf")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": a.vocab, "hidden_size": a.hidden, "intermediate_size": a.ffn,
        "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "max_position_embeddings": max(2048, a.seq), "tie_word_embeddings": False,
    }
    if a.model == "hf":
        import transformers  # only this mode needs it
        hf_config = transformers.LlamaConfig(
            vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.ffn,
            num_hidden_layers=a.layers, num_attention_heads=a.heads,
            num_key_value_heads=a.kv_heads, rms_norm_eps=1e-5, rope_theta=10000.0,
            max_position_embeddings=max(2048, a.seq), tie_word_embeddings=False)
        model = transformers.LlamaForCausalLM(hf_config).to(torch.float32)
        name = (f"transformers {transformers.__version__} LlamaForCausalLM "
                f"({model.config._attn_implementation} attention)")
    else:
        model = torch_llama.TorchLlama(config, dtype=torch.float32)
        name = "project reference Llama (tools/reference/torch_llama.py)"
    print(f"model: {name}", flush=True)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight"):
                param.fill_(1.0)
            else:
                param.normal_(0.0, 0.02)
    linear = ("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight",
              "gate_proj.weight", "up_proj.weight", "down_proj.weight")
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith("model.layers.") and name.endswith(linear))
    batches = [torch.randint(0, a.vocab, (a.batch, a.seq)) for _ in range(a.batches + 1)]

    def step(ids):
        if a.model == "hf":
            loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        else:
            logits = model(ids)
            loss = torch_llama.loss_fn(logits, torch_llama.shifted_targets(ids))
        loss.backward()

    # The baseline's own GEMM rate (PyPI's torch brings its own BLAS; Debian's uses whatever
    # libblas.so.3 the system selects).
    x, y = torch.randn(1024, 1024), torch.randn(1024, 1024)
    x @ y
    t0 = time.perf_counter()
    for _ in range(10):
        x @ y
    gemm = 2 * 1024 ** 3 * 10 / (time.perf_counter() - t0) / 1e9
    print(f"torch sgemm 1024^3: {gemm:.1f} GFLOP/s", flush=True)

    step(batches[0])  # warm-up
    start = time.perf_counter()
    for ids in batches[1:]:
        step(ids)
    elapsed = time.perf_counter() - start
    tokens = a.batches * a.batch * a.seq
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{elapsed / a.batches:.3f} s/batch, peak RSS {peak_mb} MB", flush=True)
    print(f"tokens_per_s={tokens / elapsed:.3f}", flush=True)


if __name__ == "__main__":
    main()
