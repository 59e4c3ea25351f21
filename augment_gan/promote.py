"""Promotion: gate an evaluated checkpoint, export it to ONNX, write the model dir.

A model can take each class from its own best evaluated step (``promote --checkpoint
best``: eval/best.json's ``per_class``): its generator then routes each class to the EMA
generator of that step (``nets/routed.py``), and the card records the step of each class.

Nothing is written unless at least one class passes the gate and the ONNX export passes
its parity check; then ``models/<name>/v<k>/`` is written whole and PROMOTED points at it.
Beside the generator go the domain judge (``judge.onnx``, parity-checked) and the reference
arrays of per-sample selection (``selection.npz``); the card's ``selection`` records each
class's acceptance rate, measured on the exported generator. The utility check runs on the
classes the gate passed, with their selected samples (``evaluation/utility.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from augment_gan.contracts.model_dir import (
    ONNX_NAME,
    REPORT_NAME,
    SAMPLES_NAME,
    SELECTION_SHEET_NAME,
    next_version,
    write_model_dir,
)
from augment_gan.contracts.reports import EvalReport, GateDecision
from augment_gan.errors import AugmentGanError
from augment_gan.evaluation.checkpoints import best_steps, routed_report, write_run_report
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import selection_inputs
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.evaluation.report import SELECTION_MARK
from augment_gan.evaluation.utility import UtilityConfig, run_utility_check
from augment_gan.export.onnx_export import export_run_generator
from augment_gan.export.selection_export import report_section, selection_files
from augment_gan.run import Run
from augment_gan.run.samples import combine_rows


class PromotionRejected(AugmentGanError):
    """No class of the checkpoint passed the gate."""

    def __init__(self, step: int, decision: GateDecision) -> None:
        super().__init__(f"checkpoint step {step} was not promoted: no class passed the gate.")
        self.step, self.decision = step, decision


def resolve_steps(run: Run, which: str) -> dict[str, int]:
    """'best' (each class's best step, eval/best.json), 'latest' or a step -> class -> step."""
    if which == "best":
        return best_steps(run.path)
    step = run.checkpoint(which)[0]
    return {name: step for name in run.spec.data.classes}


def class_steps(run: Run, step: int | Mapping[str, int]) -> tuple[dict[str, int], int]:
    """(class -> step, the main step): the main step's report gives the judge and the overall
    metrics (the step the most classes come from; the latest of those on a tie)."""
    if isinstance(step, int):
        return {name: step for name in run.spec.data.classes}, step
    steps = {name: int(step[name]) for name in run.spec.data.classes}
    counts = [list(steps.values()).count(s) for s in steps.values()]
    main = max(zip(counts, steps.values()))[1]
    return steps, main


def step_report(run: Run, step: int | Mapping[str, int]) -> EvalReport:
    """The evaluation of the model made of ``step`` (one step, or class -> step): that step's
    report, or :func:`~augment_gan.evaluation.checkpoints.routed_report` when the classes'
    steps differ (its ``step`` is the main one, :func:`class_steps`)."""
    steps, main = class_steps(run, step)
    return run.dir.read_eval_report(main) if len(set(steps.values())) == 1 else routed_report(run.path, steps, main)


DEFAULT_UTILITY = UtilityConfig()  # what ``utility=True`` runs (the tests swap in a tiny one)


def promote_checkpoint(
    run: Run | str | Path,
    step: int | Mapping[str, int],
    thresholds: GateThresholds,
    models_dir: Path | None = None,
    *,
    utility: bool | UtilityConfig = True,
) -> tuple[Path, GateDecision]:
    """Gate the evaluated ``step`` and, if any class passes, write and promote a model dir.

    ``step``: one evaluated step for every class, or each class's own (class name -> step,
    :func:`resolve_steps`); classes whose steps differ are routed to their step's generator.

    ``run``: a :class:`~augment_gan.run.Run` (or its dir), opened once: its spec, folder and
    split serve the gate, the export, per-sample selection and the utility check.
    With ``utility`` (True: :data:`DEFAULT_UTILITY`; False skips it; or a config) the classes
    the gate passed also go through the utility check (``evaluation/utility.py``) on the
    run's held-out images, and a class whose selected samples make a classifier
    significantly worse fails; the run's report is rewritten with the final verdicts."""
    run = run if isinstance(run, Run) else Run.open(run)
    spec, name = run.spec, run.spec.name
    steps, step = class_steps(run, step)
    report = step_report(run, steps)
    decision = apply_gate(report, thresholds)
    if not decision["passed_classes"]:
        raise PromotionRejected(step, decision)
    models_dir = Path(models_dir) if models_dir is not None else run.dir.models_dir
    version = next_version(models_dir, name)
    _, checkpoint = run.checkpoint(step)
    generator, net_cfg = run.class_generator(steps)
    onnx_bytes, fields = export_run_generator(generator, net_cfg, spec, version=version)
    known = {f.name for f in dataclasses.fields(EvalConfig)}
    eval_cfg = EvalConfig(**{k: v for k, v in report.get("config", {}).items() if k in known})
    judge, per_class = selection_inputs(run, eval_cfg)
    files, chosen, selected = selection_files(
        judge, per_class, onnx_bytes, fields["classes"], int(fields["latent_dim"])
    )
    if utility is not False:
        decision = run_utility_check(run, decision, selected, DEFAULT_UTILITY if utility is True else utility)
        write_run_report(run, {**report, "gate": decision}, decision)
        if not decision["passed_classes"]:
            raise PromotionRejected(step, decision)
    files[ONNX_NAME] = onnx_bytes
    distinct = sorted(set(steps.values()))
    grids = [run.dir.sample_grid(s) for s in distinct]
    if all(path.is_file() for path in grids):  # each class's row from its step's grid
        pick = [distinct.index(steps[c]) for c in spec.data.classes]
        files[SAMPLES_NAME] = grids[0].read_bytes() if len(grids) == 1 else combine_rows(grids, pick)
    if run.dir.report_path.is_file():
        files[REPORT_NAME] = run.dir.report_path.read_bytes()
    if REPORT_NAME in files:  # the run's report, with what selection keeps and rejects where it belongs
        section = report_section(chosen, files[SELECTION_SHEET_NAME])
        files[REPORT_NAME] = files[REPORT_NAME].decode().replace(SELECTION_MARK, section, 1).encode()
    card = {
        **fields,
        "source": {
            "run_dir": str(run.path.resolve()),
            "step": step,
            "checkpoint": str(checkpoint.resolve()),
            **({"steps": steps} if "steps" in report else {}),
            "data_root": spec.data.root,
            "data_key": spec.data.key,
        },
        "gate": decision,
        "selection": chosen,
        "metrics": {
            "features": report["features"],
            "judge": report["judge"],
            "overall": report["overall"],
            "per_class": report["classes"],
        },
    }
    model_dir = write_model_dir(models_dir, name, files, card, promote=True, version=version)
    return model_dir, decision
