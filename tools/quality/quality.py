#!/usr/bin/python3
"""tools/quality: every pruning method at 20/30/40/50 % on one model, written to docs/quality.md.

    /usr/bin/python3 tools/quality/quality.py --name tiny --model testdata/tiny/model

(needs `bazel build //tools:prune //c_api:libgisp_so_1 //tools/quality:quality_chart`; see
README.md). For each method the `prune` CLI offers, one run with the lm objective on generic text
gives held-out perplexity (the CLI's own evaluation) and exported sliced models at every target;
each export is then scored on the task (exact match of greedy generations, tools/tasks/arith.py)
and on the multiple-choice set (the C API's lm-eval-style acc / acc_norm) through the Python
binding. Two more GISP runs compare calibrations: answer-only on task examples against generic
text (task exact match), and margin against lm on the same multiple-choice items (acc,
acc_norm). Results go to a section of docs/quality.md between markers (the rest of the file is
kept), a JSON file and PNG/SVG plots beside it.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))

# Every method issue 13 names, in report order. `gisp` is iterative GISP, `oneshot` GISP with one
# step; the others are the local baselines of method.md section 10.
ALL_METHODS = ["gisp", "oneshot", "wanda-sp", "flap", "llm-pruner", "magnitude", "random"]
BENCH = os.path.join(REPO, "testdata", "bench")


def log(msg):
    print(f"[quality {datetime.datetime.utcnow():%H:%M:%S}] {msg}", flush=True)


def probe_methods(prune):
    """(methods this CLI can run, {skipped method: why}, whether it has --method)."""
    out = subprocess.run([prune, "--helpfull"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    # absl prints "  --method: <description>\n      default: ..." (older absl: "--method (...);").
    m = re.search(r"--method[:]? (.*?)(?:default:|;)", text, re.S)
    if not m:
        skipped = {x: "this prune CLI has no --method flag (GISP only)"
                   for x in ALL_METHODS if x not in ("gisp", "oneshot")}
        return ["gisp", "oneshot"], skipped, False
    names = set(re.findall(r"[a-z][a-z-]*", m.group(1)))
    have = [x for x in ALL_METHODS if x in names]
    return have, {x: "not offered by this prune CLI's --method" for x in ALL_METHODS
                  if x not in names}, True


def read_report(out_dir):
    with open(os.path.join(out_dir, "report.json")) as f:
        return json.load(f)


def run_prune(args, name, extra, log_name=None):
    """One `prune` run into <work>/<name>; reuses a finished run of the same command (resumes an
    unfinished one) unless --fresh. Returns
    (report dict, seconds, command list)."""
    out = os.path.join(args.work, name)
    cmd = [args.prune, "--model", args.model, "--out", out, "--eval", args.eval,
           "--targets", args.targets, "--ratio", str(args.ratio), "--window", str(args.window),
           "--windows", str(args.windows), "--batch_size", str(args.batch_size),
           "--threads", str(args.threads), "--export", "sliced"] + extra
    if args.eval_max_chunks:
        cmd += ["--eval_max_chunks", str(args.eval_max_chunks)]
    cmd_file = os.path.join(args.work, name + ".cmd")
    same = os.path.exists(cmd_file) and open(cmd_file).read() == " ".join(cmd)
    if not args.fresh and same and os.path.exists(os.path.join(out, "report.json")):
        rep = read_report(out)
        if rep.get("record", {}).get("complete"):
            log(f"{name}: reusing {out}")
            return rep, rep.get("total_seconds", 0.0), cmd
    if (args.fresh or not same) and os.path.exists(out):
        shutil.rmtree(out)
    with open(cmd_file, "w") as f:
        f.write(" ".join(cmd))
    # An unfinished run in `out` (an interrupted report) is resumed by the CLI from its record.
    log(f"{name}: {' '.join(cmd)}")
    t0 = time.time()
    with open(os.path.join(args.work, (log_name or name) + ".log"), "w") as lf:
        rc = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT).returncode
    secs = time.time() - t0
    if rc != 0:
        with open(os.path.join(args.work, (log_name or name) + ".log")) as lf:
            tail = lf.read()[-2000:]
        raise RuntimeError(f"prune run {name} failed (exit {rc}):\n{tail}")
    return read_report(out), secs, cmd


def exports_of(report):
    """[(target dict, sliced model dir)] in target order."""
    rows = []
    for t in report.get("targets", []):
        d = ""
        for e in t.get("exports", []):
            if e.get("format") == "sliced":
                d = e.get("dir", "")
        rows.append((t, d))
    return rows


class Scorer:
    """Task exact match and multiple-choice accuracy of a model directory via the Python
    binding (libgisp)."""

    def __init__(self, args):
        import gisp  # noqa: F401  (bindings/python; libgisp from $GISP_LIBRARY or bazel-bin)
        self.gisp = gisp
        self.args = args
        self.task_eval = read_jsonl(args.task_eval, args.task_limit) if args.task_eval else []
        self.task_probe = read_jsonl(args.task_probe, args.task_limit) if args.task_probe else []

    def greedy_hit(self, model, q, a):
        """Exact match on token ids: after the prompt "Q: {q}\\nA:", greedy decoding must give
        exactly the tokens of " {a}" as the full example tokenizes them, then a line end
        (newline or </s>): what the example's text continues with in training."""
        prompt = f"Q: {q}\nA:"
        p = [int(x) for x in model.tokenize(prompt)]
        full = [int(x) for x in model.tokenize(f"{prompt} {a}\n")]
        if full[:len(p)] != p:
            raise RuntimeError(f"tokenizer: the prompt {prompt!r} is not a token prefix of its "
                               "example; exact match on token ids is undefined")
        want, newline = full[len(p):-1], full[-1]
        ids = list(p)
        for i in range(len(want) + 1):
            nxt = int(model.logits(ids)[-1].argmax())
            if i == len(want):
                return nxt in (newline, 2)
            if nxt != want[i]:
                return False
            ids.append(nxt)
        return False

    def exact_match(self, model, items):
        if not items:
            return None
        hits = sum(self.greedy_hit(model, it["question"], it["answer"]) for it in items)
        return hits / len(items)

    def score(self, model_dir):
        res = {}
        model = self.gisp.Model(model_dir)
        try:
            # One thread: these are small models, scored a sequence at a time, and idle OpenMP
            # threads only take time slices from the pruning runs on a shared machine.
            model.set_context(self.gisp.Context(num_threads=1))
            if self.task_eval:
                res["task_em"] = self.exact_match(model, self.task_eval)
            if self.task_probe and self.args.task_probe_too:
                res["task_em_train"] = self.exact_match(model, self.task_probe)
            if self.args.mc_eval:
                acc, acc_norm = model.multiple_choice_accuracy(self.args.mc_eval,
                                                               self.args.mc_limit)
                res["mc_acc"], res["mc_acc_norm"] = acc, acc_norm
        finally:
            model.close()
        return res


def read_jsonl(path, limit=0):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
                if limit and len(rows) >= limit:
                    break
    return rows


def target_rows(report, scorer, out_dir_root, what):
    rows = []
    for t, d in exports_of(report):
        path = d if not d or os.path.isabs(d) else os.path.join(os.getcwd(), d)
        row = {"requested": t["requested_sparsity"], "sparsity": t["sparsity"],
               "step": t.get("step"), "ppl": t.get("perplexity"),
               "parameters": int(t.get("parameters", 0)), "dir": path}
        if path and scorer is not None and what:
            row.update(scorer.score(path))
        rows.append(row)
    return rows


def oneshot_ratio(gisp_report, target):
    """The unit ratio at which the iterative run's decoder sparsity reaches `target` (linear
    interpolation between its steps): one-shot GISP prunes that many units in one step, so it
    lands near the same parameter sparsity (the head/channel mix differs; its measured sparsity
    is what the tables show)."""
    steps = sorted(gisp_report["record"]["steps"], key=lambda s: s["index"])
    prev_r, prev_s = 0.0, steps[0]["sparsity"] if steps else 0.0
    for s in steps:
        r, sp = s["target_ratio"], s["sparsity"]
        if sp >= target:
            if sp == prev_s:
                return r
            return prev_r + (r - prev_r) * (target - prev_s) / (sp - prev_s)
        prev_r, prev_s = r, sp
    return prev_r


def per_target_runs(args, name, extra, gisp_rep):
    """One run per target, for methods whose record has a single pruning step (one-shot, and
    any method the CLI runs in one step), so that every target gets its own mask. The unit
    ratio starts where the iterative GISP run reaches the target sparsity; the head/channel mix
    differs, so when the measured sparsity misses by more than 0.01 one more run at the ratio
    scaled by target/measured is made, and the closer of the two is kept. The run asks the CLI
    for 0.75 x target, which maps to the one pruned step (the CLI refuses a target above the
    sparsity reached); the row keeps the real target and the measured sparsity."""
    rows, secs_all, cmds = [], 0.0, []
    for t in [float(x) for x in args.targets.split(",")]:
        ratio = oneshot_ratio(gisp_rep, t)
        best = None
        for attempt in range(2):
            saved_targets, saved_ratio = args.targets, args.ratio
            args.targets, args.ratio = f"{0.75 * t:.4f}", round(ratio, 6)
            try:
                rep, secs, cmd = run_prune(args, f"{name}-{t:.2f}" + ("-b" if attempt else ""),
                                           extra)
            finally:
                args.targets, args.ratio = saved_targets, saved_ratio
            secs_all += secs
            cmds.append(" ".join(cmd))
            row = target_rows(rep, None, args.work, False)[0]
            row["requested"] = t
            if best is None or abs(row["sparsity"] - t) < abs(best["sparsity"] - t):
                best = row
            if abs(row["sparsity"] - t) <= 0.01 or row["sparsity"] <= 0:
                break
            ratio = min(0.95, ratio * t / row["sparsity"])
        rows.append(best)
    return rows, secs_all, " ; ".join(cmds)


def single_step(report):
    """True when several targets map to one step (the run pruned once)."""
    steps = [t.get("step") for t in report.get("targets", [])]
    return len(set(steps)) < len(steps)


def method_runs(args, methods, has_method_flag, scorer):
    """{method: {"rows": [...], "seconds": s, "command": str}}. GISP runs first: the other
    single-step runs take their per-target ratios from it."""
    results = {}
    gisp_rep = None
    for m in methods:
        if m == "gisp":
            extra = ["--calib", args.calib, "--steps", str(args.steps)]
            if has_method_flag:
                extra += ["--method", "gisp"]
            rep, secs, cmd = run_prune(args, "method-gisp", extra)
            gisp_rep = rep
            results[m] = {"rows": target_rows(rep, scorer, args.work, True), "seconds": secs,
                          "command": " ".join(cmd), "dense_ppl": rep.get("dense_perplexity")}
            continue
        if gisp_rep is None:
            raise RuntimeError(f"{m} needs the gisp run first (its per-target ratios)")
        steps = "1" if m == "oneshot" else str(args.steps)
        extra = ["--calib", args.calib, "--steps", steps]
        if has_method_flag:
            extra += ["--method", m]
            rep, secs, cmd = run_prune(args, f"method-{m}", extra)
            if not single_step(rep):
                results[m] = {"rows": target_rows(rep, scorer, args.work, True),
                              "seconds": secs, "command": " ".join(cmd)}
                continue
        # Without --method, one-shot is `--steps 1`; any single-step method gets one run per
        # target.
        rows, secs, cmd = per_target_runs(args, f"method-{m}", extra, gisp_rep)
        for r in rows:
            r.update(scorer.score(r["dir"]) if scorer and r.get("dir") else {})
        results[m] = {"rows": rows, "seconds": secs, "command": cmd}
    return results


def calibration_runs(args, scorer):
    """Task-aligned and multiple-choice calibrations of iterative GISP."""
    out = {}
    if args.task_calib and "task" in args.experiments:
        rep, secs, cmd = run_prune(args, "task-answer-only",
                                   ["--calib", args.task_calib, "--objective", "answer-only",
                                    "--steps", str(args.steps),
                                    "--calib_limit", str(args.task_calib_limit)])
        out["answer-only"] = {"rows": target_rows(rep, scorer, args.work, True),
                              "seconds": secs, "command": " ".join(cmd)}
    if args.mc_calib and "mc" in args.experiments:
        rep, secs, cmd = run_prune(args, "mc-margin",
                                   ["--calib", args.mc_calib, "--objective", "margin",
                                    "--steps", str(args.steps),
                                    "--calib_limit", str(args.mc_calib_limit)])
        out["margin"] = {"rows": target_rows(rep, scorer, args.work, True), "seconds": secs,
                         "command": " ".join(cmd)}
        # lm on the same items: their contexts with the true endings, as one text.
        items = read_jsonl(args.mc_calib, args.mc_calib_limit)
        lm_text = os.path.join(args.work, f"mc_calib_lm_{len(items)}.txt")
        with open(lm_text, "w", encoding="utf-8") as f:
            f.write("\n\n".join(it["context"] + it["choices"][it["label"]] for it in items)
                    + "\n")
        rep, secs, cmd = run_prune(args, "mc-lm", ["--calib", lm_text, "--steps", str(args.steps)])
        out["lm-mc-text"] = {"rows": target_rows(rep, scorer, args.work, True),
                             "seconds": secs, "command": " ".join(cmd)}
    return out


# ---------------------------------------------------------------- report


def fmt(v, digits=2, pct=False):
    if v is None:
        return "–"
    if pct:
        return f"{100 * v:.1f}%"
    return f"{v:.{digits}f}"


def machine():
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores (load average {load:.1f} at the end of the run)"


def interpolate(rows, x):
    """GISP's perplexity at sparsity x: linear in log-perplexity between its measured rows
    (None outside their range)."""
    pts = sorted((r["sparsity"], r["ppl"]) for r in rows if r.get("ppl"))
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            if x1 == x0:
                return y0
            w = (x - x0) / (x1 - x0)
            return math.exp((1 - w) * math.log(y0) + w * math.log(y1))
    return None


def claims(res, targets_of_interest=(0.3, 0.4, 0.5)):
    """Plain statements of each claim of issue 13 against these numbers. Methods land at
    slightly different measured sparsities, so each method's row is compared with GISP's
    perplexity interpolated to that row's sparsity (log-linear between GISP's rows, the dense
    model included as the 0 % end)."""
    lines = []
    methods = res["methods"]
    grows = list(methods.get("gisp", {}).get("rows", []))
    dense = res.get("dense", {})
    if dense.get("ppl"):
        grows.append({"sparsity": dense.get("sparsity") or 0.0, "ppl": dense["ppl"]})
    for t in targets_of_interest:
        worse, compared, n_compared = [], [], 0
        for m, v in methods.items():
            if m == "gisp":
                continue
            for r in v["rows"]:
                if round(r["requested"], 2) != t or r["ppl"] is None:
                    continue
                g = interpolate(grows, r["sparsity"])
                if g is None:
                    compared.append(f"{m} at {100 * r['sparsity']:.1f}% outside GISP's range")
                    continue
                item = (f"{m} {r['ppl']:.2f} vs GISP {g:.2f} at {100 * r['sparsity']:.1f}%")
                (worse if r["ppl"] < g else compared).append(item)
                n_compared += 1
        if not worse and not compared:
            continue
        # No method landed inside GISP's sparsity range: nothing was compared.
        verdict = ("not tested" if n_compared == 0 else "holds" if not worse
                   else "does NOT hold")
        lines.append(f"* {int(t * 100)}% target: GISP held-out PPL at or below every other "
                     f"method at equal sparsity {verdict} ("
                     + "; ".join(worse + compared) + ").")
    cal = res["calibrations"]
    if "answer-only" in cal and "gisp" in methods:
        gen = {round(r["requested"], 2): r for r in methods["gisp"]["rows"]}
        for r in cal["answer-only"]["rows"]:
            t = round(r["requested"], 2)
            if t in gen and r.get("task_em") is not None and gen[t].get("task_em") is not None:
                ok = r["task_em"] > gen[t]["task_em"]
                lines.append(f"* task exact match at {int(t * 100)}%: answer-only "
                             f"{fmt(r['task_em'], pct=True)} vs generic text "
                             f"{fmt(gen[t]['task_em'], pct=True)}: task-aligned ahead "
                             f"{'holds' if ok else 'does NOT hold'}.")
    if "margin" in cal and "lm-mc-text" in cal:
        lm = {round(r["requested"], 2): r for r in cal["lm-mc-text"]["rows"]}
        for r in cal["margin"]["rows"]:
            t = round(r["requested"], 2)
            if t in lm and r.get("mc_acc") is not None:
                ok = r["mc_acc"] > lm[t]["mc_acc"] and r["mc_acc_norm"] > lm[t]["mc_acc_norm"]
                lines.append(f"* multiple choice at {int(t * 100)}%: margin acc/acc_norm "
                             f"{fmt(r['mc_acc'], pct=True)}/{fmt(r['mc_acc_norm'], pct=True)} "
                             f"vs lm {fmt(lm[t]['mc_acc'], pct=True)}/"
                             f"{fmt(lm[t]['mc_acc_norm'], pct=True)}: margin ahead on both "
                             f"{'holds' if ok else 'does NOT hold'}.")
    return lines


def write_chart(args, spec_lines, png):
    spec = png[:-4] + ".spec"
    with open(spec, "w") as f:
        f.write("\n".join(spec_lines) + "\n")
    rc = subprocess.run([args.chart, spec, png]).returncode
    os.remove(spec)
    if rc != 0:
        raise RuntimeError(f"quality_chart failed on {png}")


def plots(args, res):
    os.makedirs(args.plots, exist_ok=True)
    made = []
    ppl = [f"title {args.name}: decoder sparsity vs held-out perplexity",
           "xlabel decoder parameter sparsity", "ylabel held-out perplexity", "logy"]
    for m, v in res["methods"].items():
        ppl.append(f"series {m}")
        ppl += [f"{r['sparsity']:.5f} {r['ppl'] if r['ppl'] else 'nan'}"
                for r in sorted(v["rows"], key=lambda r: r["sparsity"])]
    png = os.path.join(args.plots, f"{args.name}_ppl.png")
    write_chart(args, ppl, png)
    made.append(png)
    series = dict(res["methods"])
    for k in ("answer-only",):
        if k in res["calibrations"]:
            series["gisp, answer-only calibration"] = res["calibrations"][k]
    if any(r.get("task_em") is not None for v in series.values() for r in v["rows"]):
        task = [f"title {args.name}: decoder sparsity vs task exact match (scored items)",
                "xlabel decoder parameter sparsity", "ylabel exact match"]
        for m, v in series.items():
            task.append(f"series {m}")
            task += [f"{r['sparsity']:.5f} {r.get('task_em', float('nan'))}"
                     for r in sorted(v["rows"], key=lambda r: r["sparsity"])]
        png = os.path.join(args.plots, f"{args.name}_task.png")
        write_chart(args, task, png)
        made.append(png)
    return made


def repo_rel(path):
    """A path as the report shows it: relative to the repository when inside it."""
    a = os.path.abspath(path)
    return os.path.relpath(a, REPO) if a.startswith(REPO + os.sep) else path


def section(args, res, wall, pngs):
    dense = res["dense"]
    L = []
    L.append(f"### {args.name}: `{repo_rel(args.model)}`")
    L.append("")
    L.append(f"Measured {res['date']} on {res['machine']}; the whole command took "
             f"{wall / 60:.1f} min. Command:")
    L.append("")
    L.append("    " + res["command"])
    L.append("")
    L.append(f"Settings: ratio {args.ratio}, {args.steps} steps (one-shot: 1), lm calibration "
             f"{args.windows} windows x {args.window} tokens from `{repo_rel(args.calib)}`, batch "
             f"{args.batch_size}; held-out perplexity on `{repo_rel(args.eval)}`"
             + (f" (first {args.eval_max_chunks} chunks of 128 tokens)" if args.eval_max_chunks
                else " (all 128-token chunks)")
             + f"; task: {res['task_n']} scored items; multiple choice: {res['mc_n']} items.")
    if res["skipped"]:
        L.append("")
        L.append("Methods not run: " + "; ".join(f"{m} ({why})"
                                                   for m, why in res["skipped"].items()) + ".")
    L.append("")
    L.append("| method | target | measured sparsity | held-out PPL | task EM | MC acc | "
             "MC acc_norm | prune + eval time |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    L.append(f"| dense | – | {fmt(dense.get('sparsity'), pct=True)} | {fmt(dense.get('ppl'))} | "
             f"{fmt(dense.get('task_em'), pct=True)} | {fmt(dense.get('mc_acc'), pct=True)} | "
             f"{fmt(dense.get('mc_acc_norm'), pct=True)} | – |")
    for m, v in res["methods"].items():
        for i, r in enumerate(v["rows"]):
            L.append(f"| {m} | {int(round(100 * r['requested']))}% | "
                     f"{fmt(r['sparsity'], pct=True)} | {fmt(r['ppl'])} | "
                     f"{fmt(r.get('task_em'), pct=True)} | {fmt(r.get('mc_acc'), pct=True)} | "
                     f"{fmt(r.get('mc_acc_norm'), pct=True)} | "
                     f"{'%.0f s' % v['seconds'] if i == 0 else ''} |")
    cal = res["calibrations"]
    if "answer-only" in cal:
        L.append("")
        L.append("Task-aligned calibration (iterative GISP; exact match of greedy generations on "
                 f"the scored items, `{repo_rel(args.task_eval)}`"
                 + (f", and on the probe items, `{repo_rel(args.task_probe)}`"
                    if args.task_probe else "")
                 + f"; answer-only calibration on `{repo_rel(args.task_calib)}`):")
        L.append("")
        L.append("| calibration | target | measured sparsity | task EM scored items "
                 "| task EM probe items | held-out PPL |")
        L.append("| --- | --- | --- | --- | --- | --- |")
        L.append(f"| dense | – | – | {fmt(dense.get('task_em'), pct=True)} | "
                 f"{fmt(dense.get('task_em_train'), pct=True)} | {fmt(dense.get('ppl'))} |")
        for name, v in (("generic text (lm)", res["methods"].get("gisp")),
                        ("task answer-only", cal["answer-only"])):
            for r in (v or {}).get("rows", []):
                L.append(f"| {name} | {int(round(100 * r['requested']))}% | "
                         f"{fmt(r['sparsity'], pct=True)} | {fmt(r.get('task_em'), pct=True)} | "
                         f"{fmt(r.get('task_em_train'), pct=True)} | {fmt(r['ppl'])} |")
    if "margin" in cal:
        L.append("")
        L.append("Multiple-choice calibration (iterative GISP; acc / acc_norm on the held-out "
                 "multiple-choice set):")
        L.append("")
        L.append("| calibration | target | measured sparsity | MC acc | MC acc_norm | held-out "
                 "PPL |")
        L.append("| --- | --- | --- | --- | --- | --- |")
        L.append(f"| dense | – | – | {fmt(dense.get('mc_acc'), pct=True)} | "
                 f"{fmt(dense.get('mc_acc_norm'), pct=True)} | {fmt(dense.get('ppl'))} |")
        for name, v in (("lm, generic text", res["methods"].get("gisp")),
                        ("lm, MC items' true text", cal.get("lm-mc-text")),
                        ("margin, MC items", cal["margin"])):
            for r in (v or {}).get("rows", []):
                L.append(f"| {name} | {int(round(100 * r['requested']))}% | "
                         f"{fmt(r['sparsity'], pct=True)} | {fmt(r.get('mc_acc'), pct=True)} | "
                         f"{fmt(r.get('mc_acc_norm'), pct=True)} | {fmt(r['ppl'])} |")
    L.append("")
    L.append("Claims of issue 13, checked mechanically against the numbers above:")
    L.append("")
    L += claims(res) or ["* (no comparable rows)"]
    L.append("")
    rel = os.path.relpath(args.plots, os.path.dirname(os.path.abspath(args.doc)))
    for p in pngs:
        L.append(f"![{os.path.basename(p)}]({rel}/{os.path.basename(p)})")
    return "\n".join(L) + "\n"


def write_doc(args, text):
    begin = f"<!-- quality:{args.name} begin (written by tools/quality; do not edit) -->"
    end = f"<!-- quality:{args.name} end -->"
    body = f"{begin}\n{text}{end}\n"
    old = ""
    if os.path.exists(args.doc):
        with open(args.doc, encoding="utf-8") as f:
            old = f.read()
    if begin in old and end in old:
        new = old[:old.index(begin)] + body + old[old.index(end) + len(end) + 1:]
    else:
        if not old:
            old = "# Pruning quality: gisp against the peers' methods\n\n"
        new = old.rstrip("\n") + "\n\n" + body
    with open(args.doc + ".tmp", "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(args.doc + ".tmp", args.doc)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", default="tiny", help="section and file names in the report")
    ap.add_argument("--model", default=os.path.join(REPO, "testdata", "tiny", "model"))
    ap.add_argument("--prune", default=os.path.join(REPO, "bazel-bin", "tools", "prune"))
    ap.add_argument("--chart", default=os.path.join(REPO, "bazel-bin", "tools", "quality",
                                                    "quality_chart"))
    ap.add_argument("--calib", default=os.path.join(REPO, "testdata", "tiny", "calib.txt"))
    ap.add_argument("--eval", default=os.path.join(REPO, "testdata", "tiny", "eval.txt"))
    ap.add_argument("--task-calib", default=os.path.join(BENCH, "task_calib.jsonl"))
    ap.add_argument("--task-eval", default=os.path.join(BENCH, "task_eval.jsonl"))
    ap.add_argument("--task-probe", default=os.path.join(BENCH, "task_train_probe.jsonl"))
    ap.add_argument("--task-probe-too", action="store_true", default=True)
    ap.add_argument("--mc-calib", default=os.path.join(BENCH, "mc_calib.jsonl"))
    ap.add_argument("--task-calib-limit", type=int, default=0,
                    help="answer-only calibration: first N pairs (0 = all)")
    ap.add_argument("--mc-calib-limit", type=int, default=0,
                    help="margin calibration: first N items (0 = all)")
    ap.add_argument("--mc-eval", default=os.path.join(BENCH, "mc_eval.jsonl"))
    ap.add_argument("--methods", default="", help="comma-separated subset (default: all the CLI "
                    "offers)")
    ap.add_argument("--experiments", default="methods,task,mc")
    ap.add_argument("--targets", default="0.2,0.3,0.4,0.5")
    ap.add_argument("--ratio", type=float, default=0.6)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--windows", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--eval-max-chunks", type=int, default=0)
    ap.add_argument("--task-limit", type=int, default=0)
    ap.add_argument("--mc-limit", type=int, default=0)
    ap.add_argument("--work", default="", help="run directory (default /tmp/gisp-quality/NAME)")
    ap.add_argument("--doc", default=os.path.join(REPO, "docs", "quality.md"))
    ap.add_argument("--plots", default=os.path.join(REPO, "docs", "quality"))
    ap.add_argument("--fresh", action="store_true", help="rerun runs already in --work")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the section and plots from --plots/NAME.json, no runs")
    args = ap.parse_args(argv)
    if args.report_only:
        with open(os.path.join(args.plots, f"{args.name}.json")) as f:
            res = json.load(f)
        pngs = plots(args, res)
        write_doc(args, section(args, res, res["wall_seconds"], pngs))
        return 0
    args.work = args.work or os.path.join("/tmp", "gisp-quality", args.name)
    os.makedirs(args.work, exist_ok=True)
    args.experiments = set(args.experiments.split(","))
    for p in (args.prune, args.model, args.calib, args.eval):
        if not os.path.exists(p):
            raise SystemExit(f"quality: {p} does not exist (build: bazel build //tools:prune "
                             "//c_api:libgisp_so_1 //tools/quality:quality_chart)")
    t0 = time.time()
    methods, skipped, has_flag = probe_methods(args.prune)
    if args.methods:
        want = args.methods.split(",")
        for m in want:
            if m not in methods:
                raise SystemExit(f"quality: --methods names {m}, which this CLI cannot run "
                                 f"(available: {', '.join(methods)})")
        skipped.update({m: "not requested (--methods)" for m in methods if m not in want})
        methods = [m for m in methods if m in want]
    if "methods" not in args.experiments:
        methods = [m for m in methods if m == "gisp"]
    log(f"methods: {', '.join(methods)}; skipped: {skipped or 'none'}")
    scorer = Scorer(args)
    dense = {"sparsity": None}
    d = scorer.score(args.model)
    dense.update(d)
    res = {"methods": method_runs(args, methods, has_flag, scorer)}
    first = next(iter(res["methods"].values()), None)
    dense["ppl"] = first.get("dense_ppl") if first else None
    if "gisp" in res["methods"]:
        rep = read_report(os.path.join(args.work, "method-gisp"))
        dense["sparsity"] = rep.get("dense_sparsity")
        dense["ppl"] = rep.get("dense_perplexity")
    res["calibrations"] = calibration_runs(args, scorer)
    res["dense"] = dense
    res["skipped"] = skipped
    res["date"] = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    res["machine"] = machine()
    res["command"] = "/usr/bin/python3 tools/quality/quality.py " + shlex.join(
        argv if argv is not None else sys.argv[1:])
    res["task_n"] = len(scorer.task_eval)
    res["mc_n"] = len(read_jsonl(args.mc_eval, args.mc_limit)) if args.mc_eval else 0
    wall = time.time() - t0
    res["wall_seconds"] = wall
    pngs = plots(args, res)
    with open(os.path.join(args.plots, f"{args.name}.json"), "w") as f:
        json.dump(res, f, indent=1)
    write_doc(args, section(args, res, wall, pngs))
    log(f"done in {wall:.0f}s: {args.doc}, {', '.join(pngs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
