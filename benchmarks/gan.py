"""The GAN side of a benchmark: one class-conditional GAN trained, evaluated, gated and promoted
by the toolkit's own pipeline (``augment_gan.pipeline.run``), and what the JSON says of it.

What the JSON's ``gan`` keys mean, the same for every dataset:

* ``gate``: per class, the gate's checks alone (``apply_gate`` with ``GateThresholds()``) at
  the best step: ``passed``, ``reasons``, ``warnings``; ``gate_passed_classes``.
* ``utility_check``: promote's utility check on the classes the gate passed (the library's
  result: config, per class by name, macro-F1 change), or None where it did not run.
* ``promoted_classes``: what the promoted model serves: the gate, then the utility check
  (a class whose samples hurt fails); ``decision`` per class with the check's verdict.

If a minority class is not promoted, the last step is ALSO promoted with every check off
("gate bypassed", ``lenient``), so its samples can still be measured downstream; strategies
using that model are marked ``*``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

NET = {"g_width": 16, "d_width": 16}  # the demo's nets (augment_gan.demo): one training fits minutes on 2 cores
LENIENT = {
    "max_fid": 1e12,
    "max_kid": 1e12,
    "min_precision": 0.0,
    "min_recall": 0.0,
    "min_coverage": 0.0,
    "min_class_consistency": 0.0,
    "min_spread": 0.0,
    "min_nearest_class": 0.0,
    "max_copy_rate": 1.0,
    "max_overall_fid": 1e12,
    "calibrated": False,
}
METRIC_KEYS = (
    "n_reference",
    "reference",
    "fid",
    "kid",
    "precision",
    "recall",
    "coverage",
    "class_consistency",
    "copy_rate",
)


def log_gates(tag: str, reports: dict[int, dict], log) -> None:
    """One line per evaluated step: how many classes the gate passed, and which."""
    for s in sorted(reports):
        passed = reports[s]["gate"]["passed_classes"]
        log(f"  {tag}: gate at step {s}: {len(passed)}/{len(reports[s]['classes'])} pass ({','.join(passed) or '-'})")


def selection_summary(model_dir: Path | None) -> dict | None:
    """Per-sample selection's acceptance per class, from a model dir's card."""
    if model_dir is None:
        return None
    card = json.loads((Path(model_dir) / "card.json").read_text())
    return {
        c: {k: round(v, 3) if isinstance(v, float) else v for k, v in e.items()}
        for c, e in card.get("selection", {}).get("per_class", {}).items()
    }


def train_gan(
    train_dir: Path,
    models_dir: Path,
    name: str,
    *,
    net: dict[str, Any],
    train: dict[str, Any],
    steps: int,
    seed: int,
    eval_samples: int,
    judge_steps: int | None,
    band_draws: int | None = None,
    utility: Any,
    minority: list[str],
    log,
) -> tuple[dict[str, Any], Path | None, Path | None]:
    """(the JSON's ``gan``, the promoted model dir, the gate-bypassed model dir).

    Trains ``steps`` steps with the TrainConfig fields ``train`` (the library's defaults
    otherwise), evaluating at half and at the full budget (never step 0) with ``eval_samples``
    samples per class, ``judge_steps`` and ``band_draws`` (None: the library's), promotes the best
    step with ``utility`` (True, False or a ``UtilityConfig``), then the gate-bypassed model
    when a minority class was not promoted."""
    from augment_gan.evaluation.config import EvalConfig
    from augment_gan.evaluation.gate import GateThresholds, apply_gate
    from augment_gan.pipeline import TrainEval, promote, run
    from augment_gan.run import TrainConfig

    every = max(steps // 2, 1)
    cfg = TrainConfig(**{**train, "steps": steps, "checkpoint_every": every, "seed": seed})
    eval_cfg = EvalConfig(
        samples_per_class=eval_samples,
        seed=seed,
        judge_steps=judge_steps or EvalConfig.judge_steps,
        band_draws=band_draws or EvalConfig.band_draws,
    )
    thresholds = GateThresholds()
    result = run(
        train_dir,
        name,
        models_dir=models_dir,
        net=net,
        train=cfg,
        evaluation=TrainEval(every=every, config=eval_cfg, thresholds=thresholds),
        utility=utility,
    )
    reports, step = result.reports, result.best_step
    report = reports[step]
    gate = apply_gate(report, thresholds)  # the gate's checks alone (the report's "gate" is promote's final decision)
    final = result.decision
    promoted = final["passed_classes"] if result.model_dir is not None else []
    out: dict[str, Any] = {
        "steps": steps,
        "seed": seed,
        "net": net,
        "train_config": cfg.to_dict(),
        "eval_samples_per_class": eval_samples,
        "judge_steps": eval_cfg.judge_steps,
        "run_dir_name": result.run_dir.name,
        "evaluated_steps": sorted(reports),
        "best_step": step,
        "per_class_metrics": {c: {k: r.get(k) for k in METRIC_KEYS} for c, r in report["classes"].items()},
        "overall_fid": report["overall"]["fid"],
        "gate": {
            c: {"passed": r["passed"], "reasons": r["reasons"], "warnings": r.get("warnings", [])}
            for c, r in gate["per_class"].items()
        },
        "gate_passed_classes": gate["passed_classes"],
        "utility_check": final.get("utility"),
        "decision": {
            c: {"passed": r["passed"], "reasons": r["reasons"], "utility": r.get("utility")}
            for c, r in final["per_class"].items()
        },
        "promoted_classes": promoted,
        "minority_passed_gate": {c: c in gate["passed_classes"] for c in minority},
        "minority_promoted": {c: c in promoted for c in minority},
        "selection": selection_summary(result.model_dir),
        "gated_model": str(result.model_dir.relative_to(models_dir)) if result.model_dir else None,
        "seconds": {k: round(v, 1) for k, v in result.seconds.items()},
    }
    log_gates("GAN", reports, log)
    bypassed = None
    if not all(out["minority_promoted"].values()):
        t0 = time.perf_counter()
        last = max(reports)
        lenient = promote(
            result.run_dir,
            last,
            thresholds=GateThresholds(**LENIENT),
            utility=False,
            models_dir=models_dir / "gate-bypassed",
        )
        bypassed = lenient.model_dir
        out["lenient"] = {
            "step": last,
            "thresholds": LENIENT,
            "passed_classes": lenient.decision["passed_classes"],
            "selection": selection_summary(bypassed),
        }
        out["seconds"]["lenient_promote"] = round(time.perf_counter() - t0, 1)
    return out, result.model_dir, bypassed
