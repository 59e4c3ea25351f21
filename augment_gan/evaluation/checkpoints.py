"""Evaluating a run's checkpoints: eval JSON per step, the gate, the best step, report.html."""

from __future__ import annotations

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
    """Re-gate every evaluated step and record the best in eval/best.json."""
    reports = load_reports(run_dir)
    if not reports:
        return None
    scored = [(selection_score(apply_gate(r, thresholds), r), r["step"]) for r in reports]
    (passed, neg_kid), step = max(scored)
    best = {
        "step": step,
        "classes_passing": passed,
        "mean_class_kid": -neg_kid,
        "criterion": "most classes passing the gate, then lowest mean per-class KID",
    }
    RunDir(run_dir).write_best(best)
    return best


def best_step(run_dir: Path) -> int:
    return int(RunDir(run_dir).read_best()["step"])


def write_run_report(run: Run | str | Path, report: EvalReport, decision: GateDecision | None) -> Path:
    """<run dir>/report.html for one evaluated step (samples, real images, curves, table)."""
    run = run if isinstance(run, Run) else Run.open(run, progress=False)
    generator, net_cfg, _ = run.ema_generator(report["step"])
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
