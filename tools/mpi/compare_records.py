#!/usr/bin/env python3
"""Compares the record.json of a data-parallel run with the single-process one (docs/scaling.md).

    tools/mpi/compare_records.py RANKS/record.json SINGLE/record.json [--tolerance 1e-5]

The ranks add up their gradient sums in another order than one process does, so (docs/numerics.md,
"Data-parallel runs"):
  * configuration, model, calibration set and unit layout are the same;
  * every unit is pruned at the same step (the CLI's records carry no scores to place a unit in
    the tie band, so this check is exact; tools/mpi/fixture_parity checks the tie band with the
    scores);
  * every step's threshold agrees to --tolerance (relative), its sparsity exactly, and its
    calibration loss exactly (each batch's loss comes from one rank, on the same model);
  * the final calibration loss is the same.
Prints one PASS line, or one FAIL line per difference, and exits 1 on any difference.
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ranks")
    ap.add_argument("single")
    ap.add_argument("--tolerance", type=float, default=1e-5)
    args = ap.parse_args()
    a = json.load(open(args.ranks))
    b = json.load(open(args.single))
    problems = []
    for key in ("config", "model", "calibration", "layout", "complete"):
        if a.get(key) != b.get(key):
            problems.append(f"{key} differs: {a.get(key)} vs {b.get(key)}")
    flips = [u for u, (x, y) in enumerate(zip(a["pruned_at_step"], b["pruned_at_step"])) if x != y]
    if flips or len(a["pruned_at_step"]) != len(b["pruned_at_step"]):
        problems.append(f"{len(flips)} units pruned at other steps, first {flips[:5]}")
    if len(a["steps"]) != len(b["steps"]):
        problems.append(f"{len(a['steps'])} steps vs {len(b['steps'])}")
    worst = 0.0
    for sa, sb in zip(a["steps"], b["steps"]):
        k = sb["index"]
        rel = abs(sa["threshold"] - sb["threshold"]) / max(abs(sb["threshold"]), 1e-300)
        worst = max(worst, rel)
        if rel > args.tolerance:
            problems.append(f"step {k}: threshold {sa['threshold']} vs {sb['threshold']}")
        for field in ("sparsity", "calibration_loss", "pruned_units"):
            if sa[field] != sb[field]:
                problems.append(f"step {k}: {field} {sa[field]} vs {sb[field]}")
    if a.get("final_calibration_loss") != b.get("final_calibration_loss"):
        problems.append(f"final loss {a.get('final_calibration_loss')} vs "
                        f"{b.get('final_calibration_loss')}")
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        return 1
    print(f"PASS {len(b['steps'])} steps: same decisions, losses and sparsities; thresholds within "
          f"{worst:.1e} (tolerance {args.tolerance:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
