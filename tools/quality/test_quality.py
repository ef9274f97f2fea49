"""Smoke test of tools/quality: the tiny model, GISP and one-shot GISP with three steps on a few
windows, the task and multiple-choice calibrations, two targets, a handful of items. Checks that
every run happens, the tables and plots are written, and the numbers are sane (not their
values). Needs `bazel build //tools:prune //c_api:libgisp_so_1 //tools/quality:quality_chart`;
skips (saying which is missing) otherwise."""

import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import quality  # noqa: E402

PRUNE = os.path.join(REPO, "bazel-bin", "tools", "prune")
CHART = os.path.join(REPO, "bazel-bin", "tools", "quality", "quality_chart")
LIB = os.environ.get("GISP_LIBRARY", os.path.join(REPO, "bazel-bin", "c_api", "libgisp.so.1"))


def _missing():
    return [p for p in (PRUNE, CHART, LIB) if not os.path.exists(p)]


@pytest.mark.skipif(bool(_missing()), reason=f"not built: {_missing()} (bazel build "
                    "//tools:prune //c_api:libgisp_so_1 //tools/quality:quality_chart)")
def test_quality_smoke(tmp_path):
    doc = tmp_path / "quality.md"
    doc.write_text("# hand-written intro\n\nkept.\n")
    argv = ["--name", "smoke", "--methods", "gisp,oneshot", "--steps", "3", "--ratio", "0.6",
            "--windows", "4", "--window", "32", "--batch-size", "4", "--targets", "0.2,0.4",
            "--eval-max-chunks", "2", "--task-limit", "3", "--mc-limit", "3", "--task-calib-limit", "8", "--mc-calib-limit", "4",
            "--work", str(tmp_path / "work"), "--doc", str(doc), "--plots",
            str(tmp_path / "plots"), "--prune", PRUNE, "--chart", CHART, "--threads", "2"]
    assert quality.main(argv) == 0
    text = doc.read_text()
    assert text.startswith("# hand-written intro\n\nkept.\n")
    assert "<!-- quality:smoke begin" in text and "<!-- quality:smoke end -->" in text
    assert "| gisp | 20% |" in text and "| oneshot | 40% |" in text
    assert "task answer-only" in text and "margin, MC items" in text
    res = json.loads((tmp_path / "plots" / "smoke.json").read_text())
    for m in ("gisp", "oneshot"):
        rows = res["methods"][m]["rows"]
        assert [round(r["requested"], 2) for r in rows] == [0.2, 0.4]
        for r in rows:
            assert 0.0 < r["sparsity"] < 0.7 and r["ppl"] > 1.0
            assert 0.0 <= r["task_em"] <= 1.0 and 0.0 <= r["mc_acc"] <= 1.0
        assert rows[-1]["sparsity"] > 0.2  # the 40 % target is a pruned step, not the dense one
    for png in ("smoke_ppl.png", "smoke_task.png"):
        with open(tmp_path / "plots" / png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    # A second run reuses the finished runs and rewrites only its own section.
    assert quality.main(argv) == 0
    assert doc.read_text().count("<!-- quality:smoke begin") == 1


def _fake_cli(tmp_path, help_text):
    exe = tmp_path / "prune"
    exe.write_text("#!/bin/sh\ncat <<'END'\n" + help_text + "\nEND\n")
    exe.chmod(0o755)
    return str(exe)


def test_probe_methods_reads_the_method_flag(tmp_path):
    help_text = ("  Flags from tools/cli/prune_main.cc:\n"
                 "    --method (pruning method: gisp | oneshot | wanda-sp | flap | magnitude);\n"
                 "      default: \"gisp\";\n")
    have, skipped, flag = quality.probe_methods(_fake_cli(tmp_path, help_text))
    assert flag and have == ["gisp", "oneshot", "wanda-sp", "flap", "magnitude"]
    assert set(skipped) == {"llm-pruner", "random"}
    new_style = ("    --method: gisp | oneshot | wanda-sp | flap | llm-pruner | magnitude | random\n"
                 "      default: \"gisp\"\n    --model: HF model directory\n")
    have, skipped, flag = quality.probe_methods(_fake_cli(tmp_path, new_style))
    assert flag and have == quality.ALL_METHODS and not skipped


def test_probe_methods_without_the_flag_runs_gisp_and_oneshot(tmp_path):
    help_text = "    --steps: number of pruning steps (1 = one-shot)\n      default: 112\n"
    have, skipped, flag = quality.probe_methods(_fake_cli(tmp_path, help_text))
    assert not flag and have == ["gisp", "oneshot"]
    assert "wanda-sp" in skipped and "no --method flag" in skipped["wanda-sp"]


def test_oneshot_ratio_interpolates_the_iterative_run():
    rep = {"record": {"steps": [{"index": 0, "target_ratio": 0.0, "sparsity": 0.001},
                                {"index": 1, "target_ratio": 0.2, "sparsity": 0.15},
                                {"index": 2, "target_ratio": 0.4, "sparsity": 0.35}]}}
    assert abs(quality.oneshot_ratio(rep, 0.25) - 0.3) < 1e-9
    assert quality.oneshot_ratio(rep, 0.9) == 0.4


def test_claims_say_not_tested_when_no_method_lands_in_gisps_range():
    # GISP reached 46 % only; every other method's 50 % row lies beyond it: nothing to compare.
    gisp = [{"requested": 0.3, "sparsity": 0.30, "ppl": 52.0},
            {"requested": 0.5, "sparsity": 0.46, "ppl": 53.0}]
    res = {"methods": {"gisp": {"rows": gisp},
                       "flap": {"rows": [{"requested": 0.3, "sparsity": 0.30, "ppl": 53.0},
                                         {"requested": 0.5, "sparsity": 0.50, "ppl": 57.0}]}},
           "dense": {"ppl": 51.7, "sparsity": 0.0}, "calibrations": {}}
    lines = quality.claims(res)
    at30 = [x for x in lines if x.startswith("* 30% target")]
    at50 = [x for x in lines if x.startswith("* 50% target")]
    assert at30 and "equal sparsity holds" in at30[0]
    assert at50 and "not tested" in at50[0] and "holds" not in at50[0]
    res["methods"]["flap"]["rows"][0]["ppl"] = 51.0  # below GISP at 30 %
    assert "does NOT hold" in [x for x in quality.claims(res) if x.startswith("* 30%")][0]
