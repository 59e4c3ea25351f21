"""Evaluating a run's checkpoints: eval JSON per step, the gate, the best step, report.html."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from augment_gan.contracts.reports import EvalReport, GateDecision
from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import CheckpointError, ConfigError
from augment_gan.evaluation.evaluate import RunEvaluator, generate_per_class
from augment_gan.evaluation.gate import GateThresholds, apply_gate, selection_score
from augment_gan.evaluation.report import build_report, real_examples
from augment_gan.fileio import atomic_write_bytes
from augment_gan.run import Run
from augment_gan.run.checkpoint import list_checkpoints, resolve_checkpoint


def evaluate_steps(
    evaluator: RunEvaluator, which: str, thresholds: GateThresholds, *, skip_done: bool = False
) -> list[EvalReport]:
    """Evaluate 'latest', 'all' or one step; each report is written with its gate decision."""
    run_dir = evaluator.run_dir
    if which == "all":
        steps = [s for s, _ in list_checkpoints(run_dir)]
        if not steps:
            raise CheckpointError(f"run dir {run_dir} has no checkpoints.")
    else:
        steps = [resolve_checkpoint(run_dir, which)[0]]
    run, reports = RunDir(run_dir), []
    for step in steps:
        if skip_done and run.eval_report(step).is_file():
            reports.append(run.read_eval_report(step))
            continue
        report = evaluator.evaluate_checkpoint(step, write=False)
        report["gate"] = apply_gate(report, thresholds)
        run.write_eval_report(step, report)
        reports.append(report)
    update_best(run_dir, thresholds)
    return reports


def load_reports(run_dir: Path) -> list[EvalReport]:
    return RunDir(run_dir).read_eval_reports()


def update_best(run_dir: Path, thresholds: GateThresholds) -> dict[str, Any] | None:
    """Re-gate every evaluated step and record the best in eval/best.json: the best step for
    the whole run (``step``) and for each class (``per_class``: :func:`class_best_steps`)."""
    reports = load_reports(run_dir)
    if not reports:
        return None
    decisions = {r["step"]: apply_gate(r, thresholds) for r in reports}
    scored = [(selection_score(decisions[r["step"]], r), r["step"]) for r in reports]
    (passed, neg_kid), step = max(scored)
    per_class = class_best_steps(reports, decisions, step)
    best = {
        "step": step,
        "classes_passing": passed,
        "mean_class_kid": -neg_kid,
        "criterion": "most classes passing the gate, then lowest mean per-class KID",
        "per_class": per_class,
        "per_class_criterion": CLASS_CRITERION,
        "classes_passing_at_their_step": sum(c["passed"] for c in per_class.values()),
    }
    RunDir(run_dir).write_best(best)
    return best


CLASS_CRITERION = "the class passes the gate, then its lowest KID, then the later step; else the run's best step"


def class_best_steps(
    reports: list[EvalReport], decisions: dict[int, GateDecision], run_best: int
) -> dict[str, dict[str, Any]]:
    """Each class's best evaluated step: among the steps whose gate passes the class, the one
    with the class's lowest KID (the later on a tie); a class no step passes gets the run's
    best step ``run_best``. ``{class: {"step", "passed"}}``.

    Classes do not peak together: a small class can pass at step 750 and copy its few
    images by step 2,000, while the big classes keep improving; promote routes each class
    to its own step (``augment_gan.nets.routed``)."""
    out: dict[str, dict[str, Any]] = {}
    for name in reports[0]["classes"]:
        passing = [
            (-_or_inf(r["classes"][name].get("kid")), r["step"])
            for r in reports
            if decisions[r["step"]]["per_class"][name]["passed"]
        ]
        out[name] = {"step": max(passing)[1], "passed": True} if passing else {"step": run_best, "passed": False}
    return out


def _or_inf(value: float | None) -> float:
    return float("inf") if value is None else value


def best_steps(run_dir: Path) -> dict[str, int]:
    """eval/best.json's step per class (every class the run's best step, for a best.json
    written before per-class steps)."""
    best = RunDir(run_dir).read_best()
    classes = Run.open(run_dir, progress=False).spec.data.classes
    per_class = best.get("per_class") or {name: {"step": best["step"]} for name in classes}
    return {name: int(entry["step"]) for name, entry in per_class.items()}


def routed_report(run_dir: Path, steps: Mapping[str, int], main: int) -> EvalReport:
    """The evaluation of a model whose classes come from different steps (``steps``: class ->
    step): each class's record from its own step's report; the judge, the overall metrics
    and the config from step ``main``'s, and ``steps`` recorded. The gate applied to it
    judges each class at its own step (and the whole model by ``main``'s overall FID)."""
    run = RunDir(run_dir)
    reports = {step: run.read_eval_report(step) for step in {*steps.values(), main}}
    merged = dict(reports[main])
    merged.pop("gate", None)
    merged["classes"] = {name: reports[steps[name]]["classes"][name] for name in reports[main]["classes"]}
    merged["steps"] = dict(steps)
    return merged  # type: ignore[return-value]


def best_step(run_dir: Path) -> int:
    return int(RunDir(run_dir).read_best()["step"])


def write_run_report(run: Run | str | Path, report: EvalReport, decision: GateDecision | None) -> Path:
    """<run dir>/report.html for one evaluated step (samples, real images, curves, table)."""
    run = run if isinstance(run, Run) else Run.open(run, progress=False)
    steps = report.get("steps") or {name: report["step"] for name in run.spec.data.classes}
    generator, net_cfg = run.class_generator(steps)
    fakes = generate_per_class(generator, net_cfg, 10, seed=report["config"]["seed"])
    reals = real_examples(run.data.images, run.data.labels.numpy(), len(run.data.classes))
    html = build_report(run.path, report, decision, fakes, reals)
    atomic_write_bytes(run.dir.report_path, html.encode("utf-8"))
    return run.dir.report_path


def check_eval_every(every: int, checkpoint_every: int) -> None:
    """ConfigError unless ``every`` is a positive multiple of ``checkpoint_every``: evaluation runs on checkpoints."""
    if every <= 0 or every % checkpoint_every:
        raise ConfigError(
            f"--eval-every ({every}) must be a positive multiple of --checkpoint-every ({checkpoint_every}): "
            "evaluation runs on checkpoints."
        )


class EvalDuringTraining:
    """``Trainer.fit(on_checkpoint=...)`` hook: evaluate the EMA generator every ``every`` steps
    and at the last step (step 0, the untrained baseline, only with ``step0``).

    The judge and the real features are built once, in the constructor; each call only
    generates, extracts and computes metrics. Time spent is logged to metrics.jsonl.
    """

    def __init__(self, evaluator: RunEvaluator, thresholds: GateThresholds, every: int, *, step0: bool = False):
        self.evaluator, self.thresholds, self.every, self.step0 = evaluator, thresholds, every, step0

    def due(self, step: int, last: int) -> bool:
        if step == 0:
            return self.step0
        return step == last or (self.every > 0 and step % self.every == 0)

    def __call__(self, trainer: Any) -> EvalReport | None:
        """The step's report, gate decision under ``"gate"`` (None: not a step to evaluate)."""
        if not self.due(trainer.step, trainer.cfg.steps):
            return None
        report = self.evaluator.evaluate(trainer.ema.shadow, trainer.net_cfg, trainer.step)
        report["gate"] = apply_gate(report, self.thresholds)
        run = RunDir(trainer.run_dir)
        run.write_eval_report(trainer.step, report)
        best = update_best(trainer.run_dir, self.thresholds)
        run.append_metrics(
            {
                "step": trainer.step,
                "event": "eval",
                "seconds": report["seconds"],
                "classes_passing": len(report["gate"]["passed_classes"]),
                "best_step": best["step"],
            }
        )
        return report
