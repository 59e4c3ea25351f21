"""Step-pick rules scored against coverage curves: a made-up kept work dir, run end to end."""

import json
import subprocess
import sys

import pytest

from benchmarks import step_pick as sp
from tests.benchmarks.helpers import REPO

# one minority class "1": coverage peaks at step 500, the gate passes 250-750 and fails at 1000
COVERAGE = {250: 0.30, 500: 0.60, 750: 0.54, 1000: 0.20}
PASSED = {250: True, 500: True, 750: True, 1000: False}
KID = {250: 0.5, 500: 2.0, 750: 1.0, 1000: 0.1}


def _kept(root, steps=1000, with_reports=True):
    run = root / "rep0" / "models" / "small-daug-rep0" / "runs" / "20260101-000000"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / f"step-{steps:07d}.pt").write_bytes(b"")
    if with_reports:
        (run / "eval").mkdir()
        for step in COVERAGE:
            record = {"kid": KID[step], "nearest_class": 0.5, "class_consistency": 0.9, "spread": 1.0, "copy_rate": 0.0}
            report = {"classes": {"1": record}, "gate": {"per_class": {"1": {"passed": PASSED[step]}}}}
            (run / "eval" / f"step-{step:07d}.json").write_text(json.dumps(report))
    return run


def _result(path, steps=1000):
    curve = [{"step": s, "coverage": c, "delta_cov": c - 0.3} for s, c in COVERAGE.items()]
    result = {
        "budget": {"gan_steps": steps},
        "replicates": [{"replicate": 0, "generators": {"small-daug": {"curves": {"1": curve}}}}],
    }
    path.write_text(json.dumps(result))
    return path


def test_rules_pick_among_passing_steps_and_score_against_the_best(tmp_path):
    _kept(tmp_path)  # found in the second kept dir
    curves, skipped = sp.collect(_result(tmp_path / "r.json"), [tmp_path / "other", tmp_path])
    assert skipped == [] and len(curves) == 1
    c = curves[0]
    assert c["best_coverage"] == 0.60 and c["best_step"] == 500
    picks = c["picks"]
    assert picks[sp.PROMOTE]["step"] == 250  # the lowest KID among passing steps (1000's 0.1 fails the gate)
    assert picks["latest passing"]["step"] == 750
    assert picks["latest passing"]["share"] == pytest.approx(0.9)
    assert picks["earliest passing"]["share"] == pytest.approx(0.5)
    summary = sp.summarise(curves)
    assert summary["rules"]["latest passing"]["at_least_good"] == 1
    assert summary["rules"][sp.PROMOTE]["at_least_good"] == 0
    assert summary["rules"]["latest passing"]["minus_promote"]["mean"] == pytest.approx(0.4)


def test_a_run_without_reports_or_without_the_last_checkpoint_is_skipped_with_the_reason(tmp_path):
    _kept(tmp_path, with_reports=False)
    curves, skipped = sp.collect(_result(tmp_path / "r.json"), [tmp_path])
    assert curves == [] and skipped[0]["why"] == "no evaluation report for step 250"
    curves, skipped = sp.collect(_result(tmp_path / "r.json", steps=2000), [tmp_path])
    assert skipped[0]["why"] == "no library run kept"


def test_the_script_writes_one_set_per_result_and_a_pooled_summary_counting_a_shared_curve_once(tmp_path):
    _kept(tmp_path / "keep")
    result = _result(tmp_path / "r.json")
    out = tmp_path / "step_pick.json"
    cmd = [sys.executable, "-m", "benchmarks.step_pick", "--out", str(out)]
    cmd += ["--result", str(result), "--keep", str(tmp_path / "keep")] * 2
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    written = json.loads(out.read_text())
    assert [s["role"] for s in written["sets"]] == ["proposed on", "checked on"]
    assert written["pooled"]["n_curves"] == 1
    assert written["checked"] is None  # the second set repeats the first's only curve: nothing new was checked


def test_promotes_rule_is_the_librarys_class_best_steps():
    from augment_gan.evaluation.checkpoints import class_best_steps

    reports = [{"step": s, "classes": {"1": {"kid": KID[s]}}} for s in COVERAGE]
    decisions = {s: {"per_class": {"1": {"passed": PASSED[s]}}} for s in COVERAGE}
    library = class_best_steps(reports, decisions, run_best=1000)["1"]["step"]
    points = [{"step": s, "kid": KID[s]} for s in COVERAGE if PASSED[s]]
    assert sp.RULES[sp.PROMOTE](points)["step"] == library == 250
    tied = [{"step": 250, "kid": 1.0}, {"step": 500, "kid": 1.0}]  # a tie goes to the later step in both
    reports = [{"step": p["step"], "classes": {"1": {"kid": p["kid"]}}} for p in tied]
    decisions = {p["step"]: {"per_class": {"1": {"passed": True}}} for p in tied}
    assert sp.RULES[sp.PROMOTE](tied)["step"] == class_best_steps(reports, decisions, 0)["1"]["step"] == 500
