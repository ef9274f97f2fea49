#!/usr/bin/env python3
"""PyTorch side of //tools/bench:calibration_pass_cuda: the same calibration pass in HF
transformers on the same GPU.

LlamaForCausalLM built from a LlamaConfig (never from_pretrained: no network) with random init
(HF's own: normal(0, initializer_range=0.02), norms 1) directly on the device in bf16 (or f32 with
--dtype f32), SDPA attention, `requires_grad` only on the decoder linear weights (q/k/v/o,
gate/up/down of every layer; embeddings, norms and lm_head frozen), loss = mean next-token
cross-entropy (labels = input ids, shifted inside the model), backward accumulating into .grad
over all batches. One warm-up batch, then --sequences sequences in batches of --batch, timed
between two torch.cuda.synchronize() calls.

Differences from gisp worth knowing when reading the ratio: the parameter .grad tensors have the
parameters' dtype (bf16 with --dtype bf16) where gisp accumulates f32 gradients, and autograd keeps
every activation (no recomputation).

Needs only torch and transformers. Prints progress lines, then `tokens_per_s=<value>` and
`peak_mem_bytes=<torch.cuda.max_memory_allocated()>` (0 on the CPU).
"""
import argparse
import time

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

LINEARS = ("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight",
           "gate_proj.weight", "up_proj.weight", "down_proj.weight")


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 32), ("hidden", 4096), ("heads", 32), ("kv_heads", 8),
                          ("head_dim", 128), ("ffn", 14336), ("vocab", 128256), ("seq", 256),
                          ("batch", 8), ("sequences", 64)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--rope_theta", type=float, default=500000.0)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--dtype", default="bf16", choices=["bf16", "f32"])
    p.add_argument("--attn", default="sdpa", help="attn_implementation (sdpa, eager, ...)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.sequences % a.batch:
        p.error("--sequences must be a multiple of --batch")
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch sees no CUDA device")
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    device = torch.device(a.device)
    torch.manual_seed(a.seed)

    config = LlamaConfig(
        vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.ffn,
        num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
        head_dim=a.head_dim, rms_norm_eps=1e-5, rope_theta=a.rope_theta,
        max_position_embeddings=max(2048, a.seq), tie_word_embeddings=False,
        initializer_range=0.02, use_cache=False, attn_implementation=a.attn)
    t0 = time.perf_counter()
    # Build and initialize on the device in the target dtype: an 8B model in f32 on the host
    # would take 32 GB and minutes to initialize.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        if hasattr(device, "__enter__"):  # torch >= 2.0: allocate directly on the device
            with device:
                model = LlamaForCausalLM(config)
        else:
            model = LlamaForCausalLM(config).to(device)
    finally:
        torch.set_default_dtype(previous)
    model.train()  # dropout is 0 in Llama configs; train() only matters for checkpointing flags
    trainable = 0
    for name, param in model.named_parameters():
        on = name.startswith("model.layers.") and name.endswith(LINEARS)
        param.requires_grad_(on)
        trainable += param.numel() if on else 0
    if a.device == "cuda":
        torch.cuda.synchronize()
    total = sum(q.numel() for q in model.parameters())
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.cuda.get_device_name() if a.device == 'cuda' else 'cpu'}, {a.dtype}, "
          f"attention {getattr(model.config, '_attn_implementation', a.attn)}; {total / 1e6:.1f}M parameters ({trainable / 1e6:.1f}M trainable), "
          f"built in {time.perf_counter() - t0:.1f} s", flush=True)

    gen = torch.Generator(device="cpu").manual_seed(a.seed + 1)
    batches = [torch.randint(0, a.vocab, (a.batch, a.seq), generator=gen).to(device)
               for _ in range(a.sequences // a.batch + 1)]

    def step(ids):
        out = model(input_ids=ids, labels=ids, use_cache=False)
        out.loss.backward()
        return out.loss

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    loss = step(batches[0])  # warm-up (kernel selection, allocator growth)
    sync()
    print(f"warm-up {time.perf_counter() - t0:.3f} s, loss {loss.item():.4f}", flush=True)
    if a.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for ids in batches[1:]:
        loss = step(ids)
    sync()
    elapsed = time.perf_counter() - start
    tokens = a.sequences * a.seq
    peak = torch.cuda.max_memory_allocated() if a.device == "cuda" else 0
    print(f"{elapsed / (len(batches) - 1):.3f} s/batch, {elapsed:.3f} s for the pass, last batch "
          f"loss {loss.item():.4f}, peak allocated {peak / 2**30:.2f} GiB "
          f"(torch.cuda.max_memory_allocated over the timed pass)", flush=True)
    print(f"tokens_per_s={tokens / elapsed:.3f}", flush=True)
    print(f"peak_mem_bytes={peak}", flush=True)


if __name__ == "__main__":
    main()
