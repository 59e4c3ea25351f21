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
from augment_gan.contracts.run_dir import read_run_config
from augment_gan.data import ImageData
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import RunEvaluator
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.evaluation.runs import evaluate_steps, write_run_report
from augment_gan.export.onnx_export import export_checkpoint
from augment_gan.pipeline.fit import Relaunched, Trained, TrainEvents, fit_run, relaunch
from augment_gan.pipeline.options import MODELS_DIR, Runtime, TrainEval
from augment_gan.promote import PromotionRejected, load_eval, promote_checkpoint, resolve_step
from augment_gan.training.checkpoint import resolve_checkpoint
from augment_gan.training.distributed import launched_by_torchrun
from augment_gan.training.live_log import check_live_log
from augment_gan.training.run import check_unchanged, latest_run_on, load_run_data, start_run


def train(
    data_dir: str | Path,
    name: str,
    *,
    models_dir: str | Path = MODELS_DIR,
    net: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    channels: str | None = None,
    strict: bool = False,
    resume: bool = False,
    runtime: Runtime = Runtime(),
    evaluation: TrainEval = TrainEval(),
    events: TrainEvents | None = None,
    progress: bool = True,
) -> Trained | Relaunched:
    """Train a class-conditional GAN on ``data_dir`` in a new run of ``name`` (``augment-gan train``).

    ``net`` / ``train``: the NetConfig / TrainConfig fields chosen, ``resolution`` among
    them; the rest keep the dataclass defaults, and the folder decides the classes and the
    channels (``channels``: auto, 1 or 3; None: auto).

    ``resume``: continue the latest run of ``name`` instead, which must have trained on
    ``data_dir``; every field chosen other than ``steps`` (a new budget) must equal the
    saved one, else :class:`~augment_gan.training.run.SettingsChanged` names each that
    differs. :func:`resume` does the same by run dir.
    """
    check_live_log(runtime.log)
    resumed = None
    if resume:  # before anything starts, torchrun included
        resumed = latest_run_on(Path(models_dir), name, Path(data_dir))
        check_unchanged(resumed, net=net, train=train, channels=channels)
    if runtime.nproc_per_node and not launched_by_torchrun():
        return relaunch(runtime, "train")
    events = events or TrainEvents()

    def open_run() -> tuple[Path, ImageData]:
        if resumed is not None:
            run_dir, data = resumed, load_run_data(resumed, strict=strict)
        else:
            run_dir, data = start_run(
                Path(models_dir), name, Path(data_dir), channels=channels or "auto", strict=strict, net=net, train=train
            )
        if data.skipped:
            events.skipped(data)
        return run_dir, data

    steps = (train or {}).get("steps") if resume else None
    return fit_run(
        open_run,
        steps=steps,
        resuming=resume,
        strict=strict,
        runtime=runtime,
        evaluation=evaluation,
        events=events,
        progress=progress,
    )


def resume(
    run_dir: str | Path,
    *,
    steps: int | None = None,
    strict: bool = False,
    runtime: Runtime = Runtime(),
    evaluation: TrainEval = TrainEval(),
    events: TrainEvents | None = None,
    progress: bool = True,
) -> Trained | Relaunched:
    """Continue ``run_dir`` from its newest readable checkpoint with the settings it was
    saved with (``augment-gan resume``); ``steps``: a new total step budget.

    Bit-for-bit the same weights as an uninterrupted run on CPU, with any number of
    processes (``runtime``). The folder must be unchanged since the run started."""
    read_run_config(Path(run_dir))  # is it a run dir? (before torchrun starts anything)
    check_live_log(runtime.log)
    if runtime.nproc_per_node and not launched_by_torchrun():
        return relaunch(runtime, "resume")
    events = events or TrainEvents()

    def open_run() -> tuple[Path, ImageData]:
        data = load_run_data(run_dir, strict=strict)
        if data.skipped:
            events.skipped(data)
        return Path(run_dir), data

    return fit_run(
        open_run,
        steps=steps,
        resuming=True,
        strict=strict,
        runtime=runtime,
        evaluation=evaluation,
        events=events,
        progress=progress,
    )


@dataclass(frozen=True)
class Evaluated:
    """What ``evaluate`` measured: one report per step (gate decision under ``"gate"``)."""

    reports: list[EvalReport]
    report_path: Path  # report.html, for the last step


def evaluate(
    run_dir: str | Path,
    checkpoint: str | int = "latest",
    *,
    evaluation: EvalConfig = EvalConfig(),
    thresholds: GateThresholds = GateThresholds(),
    progress: bool = False,
) -> Evaluated:
    """Measure checkpoints of ``run_dir`` per class and gate them (``augment-gan evaluate``).

    ``checkpoint``: ``latest``, ``all`` or a step. Each report is written beside the run's
    checkpoints, the best step is recorded, and report.html shows the last step."""
    evaluator = RunEvaluator(Path(run_dir), evaluation, progress=progress)
    reports = evaluate_steps(evaluator, str(checkpoint), thresholds)
    report_path = write_run_report(Path(run_dir), reports[-1], reports[-1]["gate"], evaluator.data)
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
    run_dir: str | Path,
    checkpoint: str | int = "best",
    *,
    thresholds: GateThresholds = GateThresholds(),
    utility: bool = True,
) -> Promoted:
    """Gate an evaluated step (``best``: by eval/best.json) and, if any class passes, export it
    to ONNX and write the next model dir, promoted (``augment-gan promote``). ``utility=False``
    skips the utility check (``evaluation/utility.py``)."""
    run_dir = Path(run_dir)
    step = resolve_step(run_dir, str(checkpoint))
    report = load_eval(run_dir, step)
    report["gate"] = apply_gate(report, thresholds)
    report_path = write_run_report(run_dir, report, report["gate"])
    try:
        model_dir, report["gate"] = promote_checkpoint(run_dir, step, thresholds, utility=utility)
    except PromotionRejected as e:
        model_dir, report["gate"] = None, e.decision
    return Promoted(step, report, report_path, model_dir)


@dataclass(frozen=True)
class Exported:
    step: int
    model_dir: Path


def export(run_dir: str | Path, out: str | Path, checkpoint: str | int = "latest") -> Exported:
    """Export a checkpoint to ONNX into the new (or empty) folder ``out``, without the gate
    (``augment-gan export``, for experts): its card says the gate did not run, and consumers
    refuse it unless told to allow ungated models."""
    config = read_run_config(Path(run_dir))
    step, path = resolve_checkpoint(Path(run_dir), checkpoint)
    version = f"export-{step}"
    onnx_bytes, fields = export_checkpoint(path, config, name=config["name"], version=version)
    card = {
        **fields,
        "version": version,
        "gate": {"ran": False},
        "source": {"run_dir": str(Path(run_dir).resolve()), "step": step, "checkpoint": str(path.resolve())},
    }
    model_dir = write_model_dir(None, config["name"], {ONNX_NAME: onnx_bytes}, card, out_dir=Path(out))
    return Exported(step, model_dir)
