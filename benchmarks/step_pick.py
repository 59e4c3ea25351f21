"""Which evaluated step should a small class come from? Pick rules on the gate's signals,
scored by the coverage of real validation images the picked step reaches.

``run`` evaluates every checkpoint and promote takes each class from its own step
(``augment_gan.evaluation.checkpoints.class_best_steps``: among the steps whose gate passes
the class, its lowest KID). At 5 images the KID is measured against 3-5 reference images,
so the question is whether a rule on the other signals a user has picks better steps.

Input: ``complementarity`` results whose work dirs were kept (``--keep``), and in them each
library-trained run's per-step evaluation reports (written during training by
``complementarity --gate``, or afterwards by ``augment-gan evaluate RUN --checkpoint all``).
Per (replicate, generator, minority class): the class's coverage of its validation images R
at each checkpoint (the result's curves, never seen by the product) beside the gate's
verdict and signals at that step (the run's reports). Each rule picks one of the passing
steps; its share is the picked step's coverage over the class's best coverage at any
checkpoint. A run without reports, or whose folder no longer matches it, is listed as
skipped with the reason.

Each ``--result`` is its own set: the first is where a rule was proposed, the later ones
check it on curves it was not chosen on. Reported per set, pooled over the check sets (``checked``: the
out-of-sample figure) and over all (``pooled``): each rule's mean share (95 % t interval),
the classes at ≥ 0.9 of their best, and its paired difference to promote's rule. Pooled, a
curve two results share (the same run and class) counts once.

Run: ``python -m benchmarks.step_pick --result benchmarks/results/complementarity-5-long.json
--keep /tmp/complementarity-2z4ify2c --result benchmarks/results/complementarity-5-longtail.json
--keep /tmp/lt/final`` (a result whose replicates ran in several work dirs:
``--keep DIR DIR``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import command_line, provenance, save, shown_path
from .compare import paired_difference

Point = dict[str, Any]  # one checkpoint of one class: step, coverage, passed, the gate's signals
PROMOTE = "lowest KID (promote's)"
RULES: dict[str, Callable[[list[Point]], Point]] = {
    PROMOTE: lambda ps: min(ps, key=lambda p: (p["kid"], -p["step"])),
    "latest passing": lambda ps: max(ps, key=lambda p: p["step"]),
    "earliest passing": lambda ps: min(ps, key=lambda p: p["step"]),
    "highest nearest-class share": lambda ps: max(ps, key=lambda p: (p["nearest_class"], p["step"])),
    "highest class consistency": lambda ps: max(ps, key=lambda p: (p["class_consistency"], p["step"])),
    "highest spread": lambda ps: max(ps, key=lambda p: (p["spread"], p["step"])),
    "lowest copy rate": lambda ps: min(ps, key=lambda p: (p["copy_rate"], -p["step"])),
}
SIGNALS = ("kid", "nearest_class", "class_consistency", "spread", "copy_rate")
GOOD_SHARE = 0.9  # the bar: the picked step reaches 0.9 of the best step's coverage


def run_dir_of(keep: list[Path], i: int, name: str, steps: int) -> Path | None:
    """The run a complementarity replicate measured (``complementarity.library_run``: the
    latest of the generator's runs that reached the last step), in the first kept dir that has it."""
    for k in keep:
        runs = k / f"rep{i}" / "models" / f"{name}-rep{i}" / "runs"
        done = [
            r
            for r in (sorted(runs.iterdir()) if runs.is_dir() else [])
            if r.is_dir() and (r / "checkpoints" / f"step-{steps:07d}.pt").is_file()
        ]
        if done:
            return done[-1]
    return None


def curve(run_dir: Path, cls: str, coverage: list[dict[str, Any]]) -> list[Point] | str:
    """The class's checkpoints with the gate's verdict and signals, or why there are none."""
    points = []
    for pt in coverage:
        path = run_dir / "eval" / f"step-{pt['step']:07d}.json"
        if not path.is_file():
            return f"no evaluation report for step {pt['step']}"
        report = json.loads(path.read_text())
        record = report["classes"][cls]
        points.append(
            {
                "step": pt["step"],
                "coverage": pt["coverage"],
                "delta_cov": pt["delta_cov"],
                "passed": report["gate"]["per_class"][cls]["passed"],
                **{k: record.get(k) for k in SIGNALS},
            }
        )
    return points


def score(points: list[Point]) -> dict[str, Any] | None:
    """Each rule's picked step and share of the best coverage; None when no step passes."""
    passing = [p for p in points if p["passed"]]
    if not passing:
        return None
    best = max(p["coverage"] for p in points)
    picks = {}
    for name, rule in RULES.items():
        p = rule(passing)
        picks[name] = {"step": p["step"], "coverage": p["coverage"], "share": p["coverage"] / best if best else 1.0}
    return {"best_coverage": best, "best_step": max(points, key=lambda p: p["coverage"])["step"], "picks": picks}


def collect(result_path: Path, keep: list[Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(scored curves, skipped curves) of one complementarity result and its work dir."""
    result = json.loads(result_path.read_text())
    steps = result["budget"]["gan_steps"]
    curves, skipped = [], []
    for rep in result["replicates"]:
        i = rep["replicate"]
        for name, g in rep["generators"].items():
            for cls, cov in g["curves"].items():
                where = {"replicate": i, "generator": name, "class": cls}
                run_dir = run_dir_of(keep, i, name, steps)
                points = curve(run_dir, cls, cov) if run_dir else "no library run kept"
                if isinstance(points, str):
                    skipped.append({**where, "why": points})
                    continue
                scored = score(points)
                if scored is None:
                    skipped.append({**where, "why": "no step passes the gate"})
                    continue
                curves.append({**where, "run": shown_path(run_dir), **scored, "points": points})
    return curves, skipped


def summarise(curves: list[dict[str, Any]]) -> dict[str, Any]:
    """Per rule: mean share (a one-sample t interval), classes at >= GOOD_SHARE, and the
    paired difference to promote's rule."""
    out = {}
    base = [c["picks"][PROMOTE]["share"] for c in curves]
    for name in RULES:
        shares = [c["picks"][name]["share"] for c in curves]
        out[name] = {
            "share": paired_difference(shares, [0.0] * len(shares)),
            "at_least_good": sum(s >= GOOD_SHARE for s in shares),
            "minus_promote": None if name == PROMOTE else paired_difference(shares, base),
        }
    return {"n_curves": len(curves), "rules": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--result", type=Path, action="append", required=True, help="a complementarity result")
    parser.add_argument(
        "--keep",
        type=Path,
        nargs="+",
        action="append",
        required=True,
        help="its kept work dirs (one --keep per --result)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/step_pick.json"))
    args = parser.parse_args()
    if len(args.result) != len(args.keep):
        raise SystemExit("give one --keep per --result, in the same order.")
    sets, pooled, checked = [], [], []
    for result_path, keep in zip(args.result, args.keep, strict=True):
        curves, skipped = collect(result_path, keep)
        if not curves:
            raise SystemExit(f"{result_path}: no curve has evaluation reports in {keep}; see --help.")
        sets.append(
            {
                "source": shown_path(result_path),
                "role": "proposed on" if not sets else "checked on",
                "summary": summarise(curves),
                "curves": curves,
                "skipped": skipped,
            }
        )
        new = [c for c in curves if (c["run"], c["class"]) not in {(p["run"], p["class"]) for p in pooled}]
        pooled += new
        checked += new if len(sets) > 1 else []
    result = {
        "benchmark": "step_pick",
        "command": command_line(),
        **provenance(),
        "good_share": GOOD_SHARE,
        "sets": sets,
        "checked": summarise(checked) if checked else None,
        "pooled": summarise(pooled),
    }
    save(args.out, result)
    pooled_sets = [{"source": k, "summary": result[k]} for k in ("checked", "pooled") if result[k]]
    for s in [*sets, *pooled_sets]:
        print(f"{s['source']}: {s['summary']['n_curves']} curves")
        for name, r in s["summary"]["rules"].items():
            d = r["minus_promote"]
            ci = f" [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]" if d and d["ci95"] else ""
            vs = f"; − promote's {d['mean']:+.3f}{ci}" if d else ""
            print(f"  {name:30s} share {r['share']['mean']:.3f}, ≥ {GOOD_SHARE}: {r['at_least_good']}{vs}")


if __name__ == "__main__":
    main()
