"""The whole job in one call: image folder -> trained, evaluated, gated, promoted model (-> balanced folder).

Each numbered step is the public stage the CLI command of the same name calls
(``train``, ``promote``, ``augment``), so ``augment-gan run``, the demo and the benchmarks
train, judge and promote exactly as a user does stage by stage, with the same device,
precision and multi-process settings (:class:`~augment_gan.pipeline.Placement`).

Example::

    from augment_gan.pipeline import Balance, run
    from augment_gan.run import TrainConfig

    result = run("data/train", "pets", train=TrainConfig(steps=2000), balance=Balance(out="data/synthetic"))
    result.model_dir, result.decision["passed_classes"], result.balanced.written
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from augment_gan.augment import AugmentSummary, augment_folder
from augment_gan.contracts.model_dir import read_card
from augment_gan.data import ImageData
from augment_gan.errors import ConfigError
from augment_gan.evaluation.checkpoints import best_step, best_steps, load_reports
from augment_gan.evaluation.utility import UtilityConfig
from augment_gan.pipeline import stages
from augment_gan.pipeline.fit import Relaunched
from augment_gan.pipeline.options import MODELS_DIR, RUN_MINUTES, Balance, Events, Placement, TrainEval
from augment_gan.run import Run, TrainConfig
from augment_gan.training.live_log import check_live_log


@dataclass
class PipelineResult:
    """Where everything landed, and the decisions made on the way."""

    data: ImageData
    run_dir: Path
    reports: dict[int, dict[str, Any]]  # evaluated step -> its report, gate decision included
    best_step: int  # the best step for the whole run (eval/best.json)
    model_dir: Path | None  # None: no class passed the gate at any evaluated step
    balanced_dir: Path | None = None
    balanced: AugmentSummary | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    class_steps: dict[str, int] = field(default_factory=dict)  # each class's best step: what the model holds
    promoted: dict[str, Any] | None = None  # the gate decision of the model promote built (utility verdicts included)

    @property
    def decision(self) -> dict[str, Any]:
        """The gate decision of the promoted model (each class at its step), else of the best step."""
        return self.promoted or self.reports[self.best_step]["gate"]


def run(
    data_dir: str | Path,
    name: str,
    *,
    models_dir: str | Path = MODELS_DIR,
    net: dict[str, Any] | None = None,
    train: TrainConfig = TrainConfig(minutes=RUN_MINUTES),
    channels: str = "auto",
    strict: bool = False,
    evaluation: TrainEval = TrainEval(),
    placement: Placement = Placement(),
    balance: Balance | None = None,
    utility: bool | UtilityConfig = True,
    events: Events | None = None,
) -> PipelineResult | Relaunched | None:
    """Load ``data_dir``, train a run of ``name`` evaluating as it goes, promote each class's
    best step, and (with ``balance``) fill the folder's small classes.

    ``net``: NetConfig fields other than those the folder decides (classes, channels);
    ``train``: the run's TrainConfig; by default it stops after ``RUN_MINUTES`` (9) minutes
    of training at the step reached (``augment-gan resume`` continues it).
    ``channels``: auto, 1 or 3; ``strict``: fail if any file of the folder would be skipped.
    ``evaluation``: evaluate and gate every ``every`` steps (a multiple of
    ``train.checkpoint_every``) and at the last step; ``every=0``: at every checkpoint
    (``step0`` adds the untrained step 0, a reference point that always fails). Each class
    is promoted from its own best evaluated step (see :func:`augment_gan.pipeline.promote`).
    ``placement``: device, precision, processes (torchrun) and live logs, as ``train``.
    ``utility``: promote's utility check (True: the default config; False skips it).
    ``events``: what to report as it goes (silent by default; the CLI prints).

    Returns None on the other ranks of a multi-process run (rank 0 goes on to promote), and
    :class:`~augment_gan.pipeline.Relaunched` in the process that re-launched itself under torchrun.
    """
    check_live_log(placement.log)  # before any work
    events = events or Events()
    seconds: dict[str, float] = {}

    # 1. train the class-conditional GAN, evaluating as it goes (the `train` stage)
    events.stage("1. train the class-conditional GAN, evaluating as it goes")
    evaluation = replace(evaluation, every=evaluation.every or train.checkpoint_every)
    t0 = time.perf_counter()
    trained = stages.train(
        data_dir,
        name,
        models_dir=models_dir,
        net=net,
        train=train,
        channels=channels,
        strict=strict,
        placement=placement,
        evaluation=evaluation,
        events=events,
    )
    seconds["train+eval"] = time.perf_counter() - t0
    if isinstance(trained, Relaunched) or not trained.is_main:
        return trained if isinstance(trained, Relaunched) else None
    run_ = Run.open(trained.run_dir, progress=False)
    events.note(f"run dir {run_.path}; sample grids in {run_.dir.samples_dir}")
    if trained.step < train.steps:
        events.note(
            f"the time budget ({train.minutes:g} min) ended training at step {trained.step} of {train.steps}; "
            f"`augment-gan resume {run_.path}` continues it"
        )

    # 2. pick each class's best evaluated step by the gate (eval/best.json)
    events.stage("2. pick each class's best evaluated step by the gate")
    reports = {r["step"]: r for r in load_reports(run_.path)}
    for s in sorted(reports):
        passed = reports[s]["gate"]["passed_classes"]
        events.note(
            f"step {s}: {len(passed)} of {len(run_.data.classes)} classes pass the gate"
            + (f" ({', '.join(passed)})" if passed else "")
        )
    steps = best_steps(run_.path)
    events.note(class_steps_summary(steps, reports))
    result = PipelineResult(
        run_.data, run_.path, reports, best_step(run_.path), None, seconds=seconds, class_steps=steps
    )

    # 3. promote: the report, the gate, the ONNX export, selection, the utility check (the `promote` stage)
    events.stage("3. promote: export the gated generator to ONNX")
    t0 = time.perf_counter()
    promoted = stages.promote(run_, "best", thresholds=evaluation.thresholds, utility=utility)
    seconds["promote"] = time.perf_counter() - t0
    result.promoted = promoted.decision  # each class at its step, with the utility check's verdicts
    events.note(f"report (samples beside real images, curves, the gate table): {promoted.report_path}")
    for name, entry in promoted.decision["per_class"].items():
        if not entry["passed"]:
            events.note(f"class {name} gets no samples: {'; '.join(entry['reasons'])} (at step {steps[name]})")
    if promoted.model_dir is None:
        events.note("nothing promoted: no class passed the gate at any evaluated step.")
        return result
    result.model_dir = promoted.model_dir
    events.note(f"promoted {result.model_dir}: classes {', '.join(promoted.decision['passed_classes'])} pass")
    events.note(promotion_summary(result.model_dir, promoted.decision))

    # 4. balance the folder (the `augment` stage), when asked
    if balance is not None:
        events.stage(f"4. balance the folder (target {balance.target}, synthetic share capped at {balance.max_share})")
        balance_folder(result, balance, events)
    return result


def balance_folder(result: PipelineResult, balance: Balance, events: Events | None = None) -> PipelineResult:
    """Stage 5 for a run that promoted a model: fill the folder's small classes (see :class:`Balance`)."""
    if result.model_dir is None:
        raise ConfigError(f"run {result.run_dir} promoted no model: there is nothing to balance with.")
    t0 = time.perf_counter()
    target_dir = Path(result.data.root)
    if balance.copy_to is not None:
        shutil.copytree(target_dir, balance.copy_to)
        target_dir = Path(balance.copy_to)
    result.balanced = augment_folder(
        target_dir,
        result.model_dir,
        target=balance.target,
        out=balance.out,
        max_share=balance.max_share,
        seed=balance.seed,
        events=events,
    )
    result.balanced_dir = Path(balance.out) if balance.out is not None else target_dir
    result.seconds["balance"] = time.perf_counter() - t0
    return result


def promotion_summary(model_dir: Path, decision: dict) -> str:
    """Two lines: per-sample selection's acceptance range and the utility check's verdicts."""
    card = read_card(Path(model_dir))
    rates = [e["acceptance"] for e in card.get("selection", {}).get("per_class", {}).values()]
    lines = []
    if rates:
        lines.append(
            f"per-sample selection keeps {min(rates):.0%}-{max(rates):.0%} of candidates per class "
            f"(accepted beside rejected: {Path(model_dir) / 'selection.png'})"
        )
    effects: dict[str, list[str]] = {}
    for name, entry in decision.get("utility", {}).get("per_class", {}).items():
        effects.setdefault(entry["effect"], []).append(name)
    if effects:
        lines.append(
            "utility check (classifier with vs without the samples, held-out images): "
            + "; ".join(f"{effect} {', '.join(names)}" for effect, names in sorted(effects.items()))
        )
    return "\n".join(lines)


def class_steps_summary(steps: dict[str, int], reports: dict[int, dict[str, Any]]) -> str:
    """Which step each class is taken from, and whether the gate passes it there."""
    by_step: dict[tuple[int, bool], list[str]] = {}
    for name, step in steps.items():
        by_step.setdefault((step, reports[step]["gate"]["per_class"][name]["passed"]), []).append(name)
    parts = [
        f"step {step} for {', '.join(names)}" + ("" if passed else " (no step passes them)")
        for (step, passed), names in sorted(by_step.items())
    ]
    return "each class from its best evaluated step: " + "; ".join(parts)
