"""Each stage as the CLI runs it: ``train``, ``resume``, ``evaluate``, ``promote``, ``export``.

``augment-gan <stage>`` parses its options, calls the function of the same name here and
prints what it returns; a script calls the same function. The whole job in one call is
:func:`augment_gan.pipeline.run`.

Example::

    from augment_gan.pipeline import evaluate, promote, train

    trained = train("data/train", "pets", train={"steps": 2000, "checkpoint_every": 500})
    evaluate(trained.run_dir, "all")
    promote(trained.run_dir).model_dir   # the best evaluated step, if any class passes the gate
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augment_gan.contracts.model_dir import ONNX_NAME, write_model_dir
from augment_gan.contracts.reports import EvalReport, GateDecision
from augment_gan.evaluation.checkpoints import evaluate_steps, write_run_report
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import RunEvaluator
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.export.onnx_export import export_checkpoint
from augment_gan.pipeline.fit import Relaunched, Trained, fit_run, relaunch
from augment_gan.pipeline.options import MODELS_DIR, Events, Placement, TrainEval
from augment_gan.promote import PromotionRejected, promote_checkpoint, resolve_steps, step_report
from augment_gan.run import Run, RunSpec, TrainConfig, check_unchanged, latest_run_on, start_run
from augment_gan.run.spec import RESUMABLE
from augment_gan.training.distributed import launched_by_torchrun
from augment_gan.training.live_log import check_live_log


def train(
    data_dir: str | Path,
    name: str,
    *,
    models_dir: str | Path = MODELS_DIR,
    net: Mapping[str, Any] | None = None,
    train: TrainConfig | Mapping[str, Any] | None = None,
    channels: str | None = None,
    strict: bool = False,
    resume: bool = False,
    placement: Placement = Placement(),
    evaluation: TrainEval = TrainEval(),
    events: Events | None = None,
) -> Trained | Relaunched:
    """Train a class-conditional GAN on ``data_dir`` in a new run of ``name`` (``augment-gan train``).

    ``net`` / ``train``: the NetConfig / TrainConfig fields chosen (``resolution`` among
    them), or a whole TrainConfig; the rest keep the dataclass defaults, and the folder
    decides the classes and the channels (``channels``: auto, 1 or 3; None: auto). The run's
    :class:`~augment_gan.run.RunSpec` is saved as its config.json.

    ``resume``: continue the latest run of ``name`` instead, which must have trained on
    ``data_dir``; every field chosen other than those a resume may change (the step budget,
    checkpoint and log cadence) must equal the saved one, else
    :class:`~augment_gan.run.SettingsChanged` names each that differs. :func:`resume` does
    the same by run dir.
    """
    check_live_log(placement.log)
    train = train.to_dict() if isinstance(train, TrainConfig) else dict(train or {})
    events = events or Events()
    if resume:  # before anything starts, torchrun included
        resumed = latest_run_on(models_dir, name, data_dir)
        check_unchanged(resumed, net=net, train=train, channels=channels)
        return resume_run(
            resumed,
            train=train,
            strict=strict,
            placement=placement,
            evaluation=evaluation,
            events=events,
            command="train",
        )
    if placement.nproc_per_node and not launched_by_torchrun():
        return relaunch(placement, "train")

    def open_run() -> Run:
        run = start_run(
            models_dir,
            name,
            data_dir,
            channels=channels or "auto",
            strict=strict,
            net=net,
            train=TrainConfig(**train),
            evaluation=evaluation.schedule,
            progress=events.progress,
        )
        events.loaded(run.data)
        return run

    return fit_run(
        open_run, steps=None, resuming=False, strict=strict, placement=placement, evaluation=evaluation, events=events
    )


def resume(
    run_dir: str | Path,
    *,
    steps: int | None = None,
    minutes: float | None = None,
    strict: bool = False,
    placement: Placement = Placement(),
    evaluation: TrainEval | None = None,
    events: Events | None = None,
) -> Trained | Relaunched:
    """Continue ``run_dir`` from its newest readable checkpoint with the spec it was saved with
    (``augment-gan resume``); ``steps``: a new total step budget; ``minutes``: a new time
    budget for this resume (0: none; None: the run's own). ``evaluation``: None keeps
    the run's saved schedule (evaluating every N steps as it did).

    Bit-for-bit the same weights as an uninterrupted run on CPU, with any number of
    processes (``placement``). The folder must be unchanged since the run started."""
    check_live_log(placement.log)
    return resume_run(
        Path(run_dir),
        train={k: v for k, v in (("steps", steps), ("minutes", minutes)) if v is not None},
        strict=strict,
        placement=placement,
        evaluation=evaluation,
        events=events or Events(),
        command="resume",
    )


def resume_run(
    run_dir: Path,
    *,
    train: Mapping[str, Any],
    strict: bool,
    placement: Placement,
    evaluation: TrainEval | None,
    events: Events,
    command: str,
) -> Trained | Relaunched:
    """What ``train --resume`` and ``resume`` share: the saved spec, ``train``'s resumable
    fields (steps, checkpoint cadence) on top."""
    spec = RunSpec.read(run_dir)  # is it a run dir? (before torchrun starts anything)
    if evaluation is None:
        evaluation = TrainEval(
            every=spec.evaluation.every,
            config=EvalConfig(
                samples_per_class=spec.evaluation.samples_per_class, judge_steps=spec.evaluation.judge_steps
            ),
        )
    resumable = {k: v for k, v in train.items() if k in RESUMABLE and k != "steps"}  # the others: as saved
    changed = spec.with_changes(train=resumable, evaluation=evaluation.schedule)
    if placement.nproc_per_node and not launched_by_torchrun():
        return relaunch(placement, command)

    def open_run() -> Run:
        if changed != spec:
            changed.write(run_dir)
        run = Run(run_dir, changed, strict=strict, progress=events.progress)
        events.loaded(run.data)
        return run

    return fit_run(
        open_run,
        steps=train.get("steps"),
        resuming=True,
        strict=strict,
        placement=placement,
        evaluation=evaluation,
        events=events,
    )


@dataclass(frozen=True)
class Evaluated:
    """What ``evaluate`` measured: one report per step (gate decision under ``"gate"``)."""

    reports: list[EvalReport]
    report_path: Path  # report.html, for the last step


def evaluate(
    run_dir: str | Path | Run,
    checkpoint: str | int = "latest",
    *,
    evaluation: EvalConfig = EvalConfig(),
    thresholds: GateThresholds = GateThresholds(),
    progress: bool = False,
) -> Evaluated:
    """Measure checkpoints of ``run_dir`` per class and gate them (``augment-gan evaluate``).

    ``checkpoint``: ``latest``, ``all`` or a step. Each report is written beside the run's
    checkpoints, the best step is recorded, and report.html shows the last step."""
    run = run_dir if isinstance(run_dir, Run) else Run.open(run_dir, progress=progress)
    evaluator = RunEvaluator(run, evaluation)
    reports = evaluate_steps(evaluator, str(checkpoint), thresholds)
    report_path = write_run_report(run, reports[-1], reports[-1]["gate"])
    return Evaluated(reports, report_path)


@dataclass(frozen=True)
class Promoted:
    """What ``promote`` decided for one evaluated step."""

    step: int
    report: EvalReport  # its evaluation, with the gate decision under "gate"
    report_path: Path  # report.html for the step
    model_dir: Path | None  # None: no class passed the gate, nothing was written

    @property
    def decision(self) -> GateDecision:
        return self.report["gate"]


def promote(
    run_dir: str | Path | Run,
    checkpoint: str | int = "best",
    *,
    thresholds: GateThresholds = GateThresholds(),
    utility: bool | Any = True,
    models_dir: str | Path | None = None,
) -> Promoted:
    """Gate an evaluated step and, if any class passes, export it to ONNX and write the next
    model dir, promoted (``augment-gan promote``). ``best``: each class at its own best
    evaluated step (eval/best.json's ``per_class``; the generator routes each class to its
    step's); ``latest`` or a step: every class at that step. ``utility=False`` skips the
    utility check (``evaluation/utility.py``; or a ``UtilityConfig``)."""
    run = run_dir if isinstance(run_dir, Run) else Run.open(run_dir, progress=False)
    steps = resolve_steps(run, str(checkpoint))
    report = step_report(run, steps)
    report["gate"] = apply_gate(report, thresholds)
    report_path = write_run_report(run, report, report["gate"])
    try:
        model_dir, report["gate"] = promote_checkpoint(run, steps, thresholds, models_dir, utility=utility)
    except PromotionRejected as e:
        model_dir, report["gate"] = None, e.decision
    return Promoted(report["step"], report, report_path, model_dir)


@dataclass(frozen=True)
class Exported:
    step: int
    model_dir: Path


def export(run_dir: str | Path, out: str | Path, checkpoint: str | int = "latest") -> Exported:
    """Export a checkpoint to ONNX into the new (or empty) folder ``out``, without the gate
    (``augment-gan export``, for experts): its card says the gate did not run, and consumers
    refuse it unless told to allow ungated models."""
    run = Run.open(run_dir, progress=False)
    step, path = run.checkpoint(checkpoint)
    version = f"export-{step}"
    onnx_bytes, fields = export_checkpoint(path, run.spec, version=version)
    card = {
        **fields,
        "version": version,
        "gate": {"ran": False},
        "source": {"run_dir": str(run.path.resolve()), "step": step, "checkpoint": str(path.resolve())},
    }
    model_dir = write_model_dir(None, run.name, {ONNX_NAME: onnx_bytes}, card, out_dir=Path(out))
    return Exported(step, model_dir)
