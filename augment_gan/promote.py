"""Promotion: gate an evaluated checkpoint, export it to ONNX, write the model dir.

Nothing is written unless at least one class passes the gate and the ONNX export passes
its parity check; then ``models/<name>/v<k>/`` is written whole and PROMOTED points at it.
Beside the generator go the domain judge (``judge.onnx``, parity-checked) and the reference
arrays of per-sample selection (``selection.npz``); the card's ``selection`` records each
class's acceptance rate, measured on the exported generator. The utility check runs on the
classes the gate passed, with their selected samples (``evaluation/utility.py``).
"""

from __future__ import annotations

import dataclasses
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
from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import AugmentGanError
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import selection_inputs
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.evaluation.report import SELECTION_MARK
from augment_gan.evaluation.runs import best_step, write_run_report
from augment_gan.evaluation.utility import UtilityConfig, run_utility_check
from augment_gan.export.onnx_export import export_checkpoint
from augment_gan.export.selection_export import report_section, selection_files
from augment_gan.training.checkpoint import resolve_checkpoint
from augment_gan.training.run import load_run_data


class PromotionRejected(AugmentGanError):
    """No class of the checkpoint passed the gate."""

    def __init__(self, step: int, decision: GateDecision) -> None:
        super().__init__(f"checkpoint step {step} was not promoted: no class passed the gate.")
        self.step, self.decision = step, decision


def resolve_step(run_dir: Path, which: str) -> int:
    return best_step(run_dir) if which == "best" else resolve_checkpoint(run_dir, which)[0]


def load_eval(run_dir: Path, step: int) -> EvalReport:
    return RunDir(run_dir).read_eval_report(step)


DEFAULT_UTILITY = UtilityConfig()  # what ``utility=True`` runs (the tests swap in a tiny one)


def promote_checkpoint(
    run_dir: Path,
    step: int,
    thresholds: GateThresholds,
    models_dir: Path | None = None,
    *,
    utility: bool | UtilityConfig = True,
) -> tuple[Path, GateDecision]:
    """Gate the evaluated ``step`` and, if any class passes, write and promote a model dir.

    With ``utility`` (True: :data:`DEFAULT_UTILITY`; False skips it; or a config) the classes the gate passed also go through
    the utility check (``evaluation/utility.py``) on the run's held-out images, and a class
    whose selected samples make a classifier significantly worse fails; the run's report is
    rewritten with the final verdicts."""
    run_dir, run = Path(run_dir), RunDir(run_dir)
    config = run.read_config()
    name = config["name"]
    report = load_eval(run_dir, step)
    decision = apply_gate(report, thresholds)
    if not decision["passed_classes"]:
        raise PromotionRejected(step, decision)
    models_dir = Path(models_dir) if models_dir is not None else run.models_dir
    version = next_version(models_dir, name)
    _, checkpoint = resolve_checkpoint(run_dir, step)
    onnx_bytes, fields = export_checkpoint(checkpoint, config, name=name, version=version)
    data = load_run_data(run_dir)
    known = {f.name for f in dataclasses.fields(EvalConfig)}
    judge, per_class = selection_inputs(
        run_dir, EvalConfig(**{k: v for k, v in report.get("config", {}).items() if k in known}), data
    )
    files, chosen, selected = selection_files(
        judge, per_class, onnx_bytes, fields["classes"], int(fields["latent_dim"])
    )
    if utility is not False:
        decision = run_utility_check(run_dir, data, decision, selected, DEFAULT_UTILITY if utility is True else utility)
        write_run_report(run_dir, {**report, "gate": decision}, decision, data)
        if not decision["passed_classes"]:
            raise PromotionRejected(step, decision)
    files[ONNX_NAME] = onnx_bytes
    for fname, source in ((SAMPLES_NAME, run.sample_grid(step)), (REPORT_NAME, run.report_path)):
        if source.is_file():
            files[fname] = source.read_bytes()
    if REPORT_NAME in files:  # the run's report, with what selection keeps and rejects where it belongs
        section = report_section(chosen, files[SELECTION_SHEET_NAME])
        files[REPORT_NAME] = files[REPORT_NAME].decode().replace(SELECTION_MARK, section, 1).encode()
    card = {
        **fields,
        "source": {
            "run_dir": str(run_dir.resolve()),
            "step": step,
            "checkpoint": str(checkpoint.resolve()),
            "data_root": config["data"]["root"],
            "data_key": config["data"]["key"],
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
