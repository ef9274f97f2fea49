#!/usr/bin/python3
"""Projects GISP's time and memory per step, and the paper's 112-step run, for Llama-2-7B, 13B and
70B on 1, 8 and 64 H200s (docs/scaling.md, "Projections"). Standard library only.

Nothing here was measured on a GPU: no GPU was available. The inputs are
  * model FLOPs per step, computed from the shapes (the same definitions as
    tools/bench/calibration_pass_cuda.cc, split by the unit that runs them in gisp's CUDA backend);
  * public peak figures of the H200 and of NVLink 4 / NDR InfiniBand (SOURCES below);
  * an ASSUMED fraction of those peaks (--gpu_fraction), stated wherever a time is printed;
  * the memory formula of docs/memory.md.
`--cpu_check` instead checks the FLOP model against CPU measurements of docs/benchmarks.md and a
measured step of the tiny model (--tiny_gradient_s). `--check` runs the self-checks the test uses.

    /usr/bin/python3 tools/bench/project_scaling.py              # the markdown of docs/scaling.md
    /usr/bin/python3 tools/bench/project_scaling.py --gpu_fraction 0.3
"""

import argparse
import math
import sys

# ---- Public figures ------------------------------------------------------------------------------

SOURCES = {
    "h200": ("NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column): FP32 67 TFLOPS; BF16 "
             "Tensor Core 1,979 TFLOPS with sparsity, so 989 dense; 141 GB HBM3e; NVLink 900 GB/s; "
             "PCIe Gen5 128 GB/s", "https://www.nvidia.com/en-us/data-center/h200/"),
    "nvlink": ("NVLink 4 (NVSwitch, HGX/DGX H200): 900 GB/s per GPU, both directions together, so "
               "450 GB/s each way", "https://www.nvidia.com/en-us/data-center/nvlink/"),
    "ib": ("NDR InfiniBand, one ConnectX-7 port of 400 Gb/s = 50 GB/s each way per GPU (DGX H200: "
           "8 such ports for 8 GPUs)", "https://www.nvidia.com/en-us/data-center/dgx-h200/"),
}
H200_BF16_DENSE = 989e12  # FLOP/s, tensor cores, bf16 operands, f32 accumulation
H200_FP32 = 67e12  # FLOP/s, CUDA cores, true f32 (gisp's cuBLAS math mode allows no TF32)
H200_MEMORY = 141e9  # bytes
NVLINK_ONE_WAY = 450e9  # bytes/s per GPU
IB_ONE_WAY = 50e9  # bytes/s per GPU (400 Gb/s)
PCIE_ONE_WAY = 64e9  # bytes/s (PCIe Gen5 x16, 128 GB/s both ways)
GPUS_PER_NODE = 8

# ---- Measured on the CPU (docs/benchmarks.md, 2026-11-30, AMD EPYC Zen 5, 2 cores) ---------------

CPU_SGEMM = 215.8e9  # oneDNN sgemm, FLOP/s, measured in the same run as the pass below
CPU_PASS = 191.9e9  # model FLOP/s of the calibration pass (89% of CPU_SGEMM)
CPU_PASS_TOKENS_PER_S = 331.0

# ---- The run -------------------------------------------------------------------------------------

WINDOWS, SEQ = 2000, 256  # the paper's calibration: 2000 windows x 256 tokens per step (method.md 7)
STEPS, RATIO = 112, 0.7  # method.md 4: n = 112 steps to rho = 0.7
BATCH = 8  # sequences per batch: gisp's GPU benchmark default (the paper used 2)


class Shape:
    def __init__(self, name, layers, hidden, heads, kv_heads, ffn, vocab):
        self.name, self.L, self.D, self.H, self.KV = name, layers, hidden, heads, kv_heads
        self.F, self.V = ffn, vocab
        self.Dh = hidden // heads

    # Layers whose units are scored (method.md 1: layers < floor(0.1 L) and the last are protected).
    def unprotected(self):
        return self.L - math.floor(0.1 * self.L) - 1

    def linear_per_layer(self):  # q, k, v, o, gate, up, down
        return 2 * self.D * self.H * self.Dh + 2 * self.D * self.KV * self.Dh + 3 * self.D * self.F

    def p_lin(self):
        return self.L * self.linear_per_layer()

    def p_g(self):  # Gbar: q, o, gate, up, down of the unprotected layers (query-head units)
        return self.unprotected() * (2 * self.D * self.H * self.Dh + 3 * self.D * self.F)

    def p_m(self):  # the large matrices: linears, embedding, lm_head
        return self.p_lin() + 2 * self.V * self.D

    def p_s(self):  # norms
        return (2 * self.L + 1) * self.D


SHAPES = [
    Shape("Llama-2-7B", 32, 4096, 32, 32, 11008, 32000),
    Shape("Llama-2-13B", 40, 5120, 40, 40, 13824, 32000),
    Shape("Llama-2-70B", 80, 8192, 64, 8, 28672, 32000),
]
TINY = Shape("tiny (testdata/tiny)", 6, 192, 6, 2, 512, 3072)
CPU_BENCH = Shape("CPU benchmark default", 12, 768, 12, 4, 2048, 32000)


# ---- FLOPs ---------------------------------------------------------------------------------------

def step_flops(m, tokens, seq, batch, grads="gisp", causal=True):
    """Model FLOPs of one calibration pass over `tokens` tokens, split by the unit that runs them
    on gisp's CUDA backend. Returns (tensor-core bf16 FLOPs, f32 FLOPs) of the dense model, each
    as (decoder part, head part).

    bf16 tensor cores: forward 2 N P_lin and input gradients 2 N P_lin (f32 activations times bf16
    weights run as a bf16 GEMM), lm_head forward and input gradient 4 N V D.
    f32: weight gradients 2 N P_g (f32 activations times f32 output gradients, CUBLAS_COMPUTE_32F)
    and attention (gisp's own f32 kernels), 3 x forward, forward 4 B H T^2 Dh per batch, halved for
    the causal mask. grads="all" counts weight gradients for every linear (the CPU benchmark's
    definition), causal=False the unhalved attention (also the CPU benchmark's).
    Not counted: recomputation, norms, RoPE, SwiGLU, softmax, the loss.
    """
    n = float(tokens)
    seqs = n / seq
    p_w = m.p_lin() if grads == "all" else m.p_g()
    attn = 3.0 * m.L * (2.0 if causal else 4.0) * seqs * m.H * seq * seq * m.Dh
    tensor = (4.0 * n * m.p_lin(), 4.0 * n * m.V * m.D)
    f32 = (2.0 * n * p_w + attn, 0.0)
    return tensor, f32


def sparsities():
    """s_{k-1} for k = 1..STEPS: step k computes Gbar of the model at sparsity R (k-1) / S."""
    return [RATIO * (k - 1) / STEPS for k in range(1, STEPS + 1)]


def gpu_pass_seconds(m, fraction, tokens, s=0.0, wgrad_on_tensor_cores=False):
    """One GPU's time for a pass over `tokens` tokens at decoder sparsity s (compaction shrinks
    the decoder's FLOPs by 1 - s; the head's stay). wgrad_on_tensor_cores: the what-if of weight
    gradients run as bf16 GEMMs with f32 accumulation, like the forward."""
    (t_dec, t_head), (f_dec, f_head) = step_flops(m, tokens, SEQ, BATCH)
    if wgrad_on_tensor_cores:
        wgrad = 2.0 * tokens * m.p_g()
        t_dec, f_dec = t_dec + wgrad, f_dec - wgrad
    tensor = t_dec * (1 - s) + t_head
    f32 = f_dec * (1 - s) + f_head
    return tensor / (fraction * H200_BF16_DENSE) + f32 / (fraction * H200_FP32)


def ring_all_reduce_seconds(nbytes, ranks, one_way):
    """Ring all-reduce: each rank sends and receives 2 (N-1)/N of the buffer; at the link's full
    one-way bandwidth (a lower bound: no latency, no protocol overhead)."""
    if ranks <= 1:
        return 0.0
    return 2.0 * (ranks - 1) / ranks * nbytes / one_way


def link_for(ranks):
    return NVLINK_ONE_WAY if ranks <= GPUS_PER_NODE else IB_ONE_WAY


# ---- Memory (docs/memory.md) ---------------------------------------------------------------------

def memory_terms(m, batch, seq, w=2):
    """docs/memory.md's peak of a calibration pass, in bytes, on an H200 (C = 64M floats)."""
    n = batch * seq
    D, F, Hq, KV, Dh, V, L = m.D, m.F, m.H, m.KV, m.Dh, m.V, m.L
    c = 64 * 2**20
    layer_act = 4 * n * (3 * D + 2 + 2 * Hq * Dh + 2 * KV * Dh + 3 * F) + 4 * batch * Hq * seq
    return {
        "weights": w * m.p_m() + 4 * m.p_s(),
        "gbar": 4 * m.p_g(),
        "checkpoints": 4 * (L + 1) * n * D,
        "layer": layer_act,
        "backward": 4 * n * (F + 2 * D + 2 * Hq * Dh + 2 * KV * Dh),
        "attention": 4 * batch * Hq * (7 * seq * Dh + 2 * seq * seq + seq),
        "head": 4 * (min(n, c // V) * V + 2 * n * D),
    }


def data_parallel_memory(m):
    """(peak with pure checkpointing, peak with gisp's default kept activations, layers kept)."""
    t = memory_terms(m, BATCH, SEQ)
    base = sum(t.values())
    # The default keeps the activations of as many top layers as fit in half the free memory.
    budget = max(0.0, 0.5 * (H200_MEMORY - base))
    kept = min(m.L, int(budget // t["layer"]))
    return base, base + kept * t["layer"], kept


# ---- Output --------------------------------------------------------------------------------------

def gb(x):
    return "%.1f" % (x / 1e9)


def duration(s):
    if s < 120:
        return "%.1f s" % s
    if s < 7200:
        return "%.1f min" % (s / 60)
    return "%.1f h" % (s / 3600)


def data_parallel_rows(m, gpus, fraction):
    """Per step (dense, step 1) and for the whole run, on `gpus` data-parallel ranks."""
    batches = WINDOWS // BATCH
    share = math.ceil(batches / gpus) * BATCH * SEQ  # the slowest rank's tokens
    link = link_for(gpus)
    step = gpu_pass_seconds(m, fraction, share)
    ar = ring_all_reduce_seconds(4 * m.p_g(), gpus, link)
    run = sum(gpu_pass_seconds(m, fraction, share, s) +
              ring_all_reduce_seconds(4 * m.p_g() * (1 - s), gpus, link) for s in sparsities())
    staging = 0.0 if gpus == 1 else 2 * 4 * m.p_g() / PCIE_ONE_WAY
    return step, ar, staging, run


def sharded_rows(m, gpus, fraction, stages):
    """Layer-sharded design (docs/memory.md): `stages` pipeline stages of L/S layers within a
    node, gpus/stages replicas; 1F1B over the replica's batches; Gbar all-reduced per stage across
    replicas. Returns (step s, all-reduce s, run s, per-rank bytes)."""
    replicas = gpus // stages
    batches = math.ceil(WINDOWS // BATCH / replicas)
    bubble = (stages - 1) / (batches + stages - 1)
    tokens = batches * BATCH * SEQ

    def step_at(s):
        compute = gpu_pass_seconds(m, fraction, tokens, s) / stages / (1 - bubble)
        ar = ring_all_reduce_seconds(4 * m.p_g() * (1 - s) / stages, replicas, IB_ONE_WAY)
        return compute, ar

    compute, ar = step_at(0.0)
    run = sum(sum(step_at(s)) for s in sparsities())
    t = memory_terms(m, BATCH, SEQ)
    n = BATCH * SEQ
    per_rank = ((t["weights"] + t["gbar"]) / stages + stages * (m.L / stages) * 4 * n * m.D +
                t["layer"] + t["backward"] + t["attention"] + t["head"])
    return compute, ar, compute + ar, run, per_rank, bubble


def streaming_rows(m, fraction):
    """Layer streaming on one device (docs/memory.md): the same FLOPs on one GPU plus the weights
    up and Gbar down once per step over PCIe (not overlapped: an upper bound)."""
    t = memory_terms(m, BATCH, SEQ)
    transfer = (t["weights"] + t["gbar"]) / PCIE_ONE_WAY
    step = gpu_pass_seconds(m, fraction, WINDOWS * SEQ)
    run = sum(gpu_pass_seconds(m, fraction, WINDOWS * SEQ, s) +
              transfer * (1 - s) for s in sparsities())
    layer = (2 * m.linear_per_layer() + 4 * (2 * m.D * m.H * m.Dh + 3 * m.D * m.F) +
             t["layer"] + t["backward"] + t["attention"] + 4 * BATCH * SEQ * m.D)
    host = t["weights"] + t["gbar"] + 4 * (m.L + 1) * WINDOWS * SEQ * m.D
    return step, transfer, run, layer, host


def markdown(fraction):
    out = []
    p = out.append
    p("Assumptions (no GPU was available: **every GPU time below is projected, none measured**):")
    p("")
    p("* the run: %d steps to decoder sparsity %.1f, %d windows x %d tokens per step, batches of "
      "%d sequences (%d per step)." % (STEPS, RATIO, WINDOWS, SEQ, BATCH, WINDOWS // BATCH))
    p("* **compute at %.0f%% of the H200's peak**, on two pipes: bf16 tensor cores (%.0f TFLOP/s "
      "dense) for the forward and input-gradient GEMMs and the head, f32 CUDA cores (%.0f TFLOP/s) "
      "for the f32 weight gradients that accumulate Gbar and for gisp's attention kernels. The "
      "fraction is an assumption (see below), not a measurement." %
      (100 * fraction, H200_BF16_DENSE / 1e12, H200_FP32 / 1e12))
    p("* all-reduce: ring, 2 (N-1)/N x 4 P_g bytes per rank at the full one-way link bandwidth "
      "(NVLink %.0f GB/s within a node of %d, NDR InfiniBand %.0f GB/s per GPU beyond): a lower "
      "bound. Steps shrink with compaction: decoder FLOPs and Gbar scale by 1 - s." %
      (NVLINK_ONE_WAY / 1e9, GPUS_PER_NODE, IB_ONE_WAY / 1e9))
    p("")
    p("| model | P | P_g | model TFLOP per step (bf16 + f32) | share on f32 |")
    p("|---|---:|---:|---:|---:|")
    for m in SHAPES:
        (t_dec, t_head), (f_dec, f_head) = step_flops(m, WINDOWS * SEQ, SEQ, BATCH)
        tensor, f32 = t_dec + t_head, f_dec + f_head
        params = m.p_m() + m.p_s()
        p("| %s | %.2f B | %.2f B | %.0f + %.0f | %.0f%% of the time |" %
          (m.name, params / 1e9, m.p_g() / 1e9, tensor / 1e12, f32 / 1e12,
           100 * (f32 / H200_FP32) / (tensor / H200_BF16_DENSE + f32 / H200_FP32)))
    p("")
    p("**Data-parallel ranks (built; NCCL for the device all-reduce).** Every rank holds the whole "
      "model and Gbar. Memory per rank from docs/memory.md with w = 2 (bf16 weights), B = %d, "
      "T = %d: minimum = pure checkpointing, default = with the top layers' activations kept in "
      "half the free memory (no recomputation when all are kept). Time per step = the slowest "
      "rank's share of the %d batches + the Gbar all-reduce; \"staging\" is what the host path "
      "(no NCCL) adds at least: Gbar down and up over PCIe Gen5 (%.0f GB/s each way)." %
      (BATCH, SEQ, WINDOWS // BATCH, PCIE_ONE_WAY / 1e9))
    p("")
    p("| model | H200s | memory per rank, GB (min / default) | fits? | step (dense) | "
      "of which all-reduce | staging adds | 112-step run |")
    p("|---|---:|---:|---|---:|---:|---:|---:|")
    for m in SHAPES:
        lo, default, kept = data_parallel_memory(m)
        fits = lo <= H200_MEMORY
        for gpus in (1, 8, 64):
            if not fits:
                p("| %s | %d | %s / - | **no** (%.0f GB > %.0f GB) | - | - | - | - |" %
                  (m.name, gpus, gb(lo), lo / 1e9, H200_MEMORY / 1e9))
                continue
            step, ar, staging, run = data_parallel_rows(m, gpus, fraction)
            p("| %s | %d | %s / %s (%d of %d layers kept) | yes | %s | %s | %s | %s |" %
              (m.name, gpus, gb(lo), gb(default), kept, m.L, duration(step + ar), duration(ar),
               duration(staging) if staging else "-", duration(run)))
    p("")
    big = SHAPES[-1]
    p("**%s needs another mode** (its bf16 weights and f32 Gbar alone are %s GB). With the "
      "designs of docs/memory.md, same assumptions:" %
      (big.name, gb(memory_terms(big, BATCH, SEQ)["weights"] + 4 * big.p_g())))
    p("")
    p("| H200s | mode | memory per GPU, GB | step (dense) | of which all-reduce / transfer | "
      "112-step run |")
    p("|---:|---|---:|---:|---:|---:|")
    step, transfer, run, layer, host = streaming_rows(big, fraction)
    p("| 1 | layer streaming (weights and Gbar on the host; host needs %s GB with f32 layer "
      "inputs) | %s (one layer + a batch) | %s | %s (PCIe, not overlapped) | %s |" %
      (gb(host), gb(layer), duration(step + transfer), duration(transfer), duration(run)))
    for gpus, stages in ((8, 8), (64, 8)):
        compute, ar, total, run, per_rank, bubble = sharded_rows(big, gpus, fraction, stages)
        replicas = gpus // stages
        p("| %d | layer-sharded, %d stages x %d replica%s (design; pipeline idle %.0f%%) | %s | %s "
          "| %s | %s |" % (gpus, stages, replicas, "" if replicas == 1 else "s", 100 * bubble,
                           gb(per_rank),
                         duration(total), duration(ar) if ar else "-", duration(run)))
    p("")
    p("13B with the method's own default of 280 steps (method.md 4) instead of 112: %s on one "
      "H200, %s on 8, %s on 64." % tuple(
          duration(sum(gpu_pass_seconds(SHAPES[1], fraction,
                                        math.ceil(WINDOWS // BATCH / g) * BATCH * SEQ,
                                        RATIO * (k - 1) / 280) +
                       ring_all_reduce_seconds(4 * SHAPES[1].p_g() * (1 - RATIO * (k - 1) / 280),
                                               g, link_for(g))
                       for k in range(1, 281)))
          for g in (1, 8, 64)))
    p("")
    m = SHAPES[0]
    step = gpu_pass_seconds(m, fraction, WINDOWS * SEQ, wgrad_on_tensor_cores=True)
    run = sum(gpu_pass_seconds(m, fraction, WINDOWS * SEQ, s, wgrad_on_tensor_cores=True)
              for s in sparsities())
    p("What-if: with the weight-gradient GEMMs on the tensor cores (bf16 operands, f32 "
      "accumulation into Gbar, as the forward runs), %s on one H200 would take %s per dense step "
      "and %s for the run." % (m.name, duration(step), duration(run)))
    p("")
    p("Sources:")
    for key in ("h200", "nvlink", "ib"):
        text, url = SOURCES[key]
        p("* %s: <%s>" % (text, url))
    return "\n".join(out)


def cpu_check(tiny_gradient_s, tiny_tokens, pass_rate):
    """The FLOP model on the CPU: the pass rate measured on the benchmark shape (model FLOP/s,
    docs/benchmarks.md), applied to the tiny model's dense step, against a measured step."""
    lines = []
    (t_dec, t_head), (f_dec, f_head) = step_flops(CPU_BENCH, 1, 256, 1, grads="all", causal=False)
    per_token = t_dec + t_head + f_dec + f_head
    lines.append("CPU benchmark shape: %.1f MFLOP per token; at %.1f GFLOP/s that is %.1f tokens/s"
                 % (per_token / 1e6, pass_rate / 1e9, pass_rate / per_token))
    # The CPU kernels compute the masked half of the causal score matrix too (benchmarks.md 1).
    (t_dec, t_head), (f_dec, f_head) = step_flops(TINY, tiny_tokens, 128, 8, causal=False)
    tiny = t_dec + t_head + f_dec + f_head
    predicted = tiny / pass_rate
    lines.append("tiny model, %d tokens: %.2f GFLOP per dense step (GISP's gradients), predicted "
                 "%.3f s at %.1f GFLOP/s" % (tiny_tokens, tiny / 1e9, predicted, pass_rate / 1e9))
    if tiny_gradient_s:
        lines.append("measured gradient phase %.3f s: measured / predicted = %.2f (achieved %.1f "
                     "GFLOP/s, %.2fx the benchmark shape's rate)" %
                     (tiny_gradient_s, tiny_gradient_s / predicted, tiny / tiny_gradient_s / 1e9,
                      predicted / tiny_gradient_s))
    return "\n".join(lines)


def self_check():
    """What the test asserts: the shapes' parameter counts match published sizes and
    docs/memory.md's numbers, the FLOP model reproduces the CPU benchmark's rate, and the table
    renders."""
    errors = []

    def near(what, got, want, rel):
        if abs(got - want) > rel * abs(want):
            errors.append("%s: %.6g, expected %.6g (within %g)" % (what, got, want, rel))

    near("Llama-2-7B parameters", SHAPES[0].p_m() + SHAPES[0].p_s(), 6.74e9, 0.01)
    near("Llama-2-13B parameters", SHAPES[1].p_m() + SHAPES[1].p_s(), 13.0e9, 0.01)
    near("Llama-2-70B parameters", SHAPES[2].p_m() + SHAPES[2].p_s(), 69.0e9, 0.01)
    near("7B P_g (docs/scaling.md: 4.7 B)", SHAPES[0].p_g(), 4.7e9, 0.01)
    near("70B P_g (docs/memory.md: 59.5 B)", SHAPES[2].p_g(), 59.5e9, 0.01)
    near("tiny Gbar bytes (docs/benchmarks.md 6: 7.4 MB)", 4 * TINY.p_g(), 7.4e6, 0.01)
    (t_dec, t_head), (f_dec, f_head) = step_flops(CPU_BENCH, 1, 256, 1, grads="all", causal=False)
    near("CPU benchmark tokens/s from its GFLOP/s", CPU_PASS / (t_dec + t_head + f_dec + f_head),
         CPU_PASS_TOKENS_PER_S, 0.01)
    text = markdown(0.5)
    for needle in ("Llama-2-7B | 1 |", "Llama-2-13B | 64 |", "**no**", "layer streaming",
                   "<https://"):
        if needle not in text:
            errors.append("the table lacks %r" % needle)
    # More GPUs never make a data-parallel step slower here.
    for m in SHAPES[:2]:
        times = [sum(data_parallel_rows(m, g, 0.5)[:2]) for g in (1, 8, 64)]
        if not times[0] > times[1] > times[2]:
            errors.append("%s: step times %s do not fall with more GPUs" % (m.name, times))
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpu_fraction", type=float, default=0.5,
                    help="assumed fraction of each H200 peak reached (default 0.5)")
    ap.add_argument("--cpu_check", action="store_true",
                    help="compare the FLOP model with the CPU measurements instead")
    ap.add_argument("--tiny_gradient_s", type=float, default=0.0,
                    help="measured gradient-phase seconds of one dense tiny-model step")
    ap.add_argument("--tiny_tokens", type=int, default=64 * 128,
                    help="tokens of that step (default 64 windows x 128)")
    ap.add_argument("--cpu_pass_gflops", type=float, default=CPU_PASS / 1e9,
                    help="the pass rate on the benchmark shape measured on the same machine "
                         "(default: benchmarks.md's 2026-11-30 Zen 5 figure)")
    ap.add_argument("--check", action="store_true", help="self-checks; exit 1 on a failure")
    args = ap.parse_args()
    if not 0 < args.gpu_fraction <= 1:
        sys.exit("--gpu_fraction must be in (0, 1], not %g" % args.gpu_fraction)
    if args.check:
        errors = self_check()
        for e in errors:
            print("FAIL " + e)
        print("project_scaling self-check: %s" % ("FAILED" if errors else "ok"))
        sys.exit(1 if errors else 0)
    if args.cpu_check:
        print(cpu_check(args.tiny_gradient_s, args.tiny_tokens, args.cpu_pass_gflops * 1e9))
        return
    print(markdown(args.gpu_fraction))


if __name__ == "__main__":
    main()
