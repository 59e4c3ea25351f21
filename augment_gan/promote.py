"""Promotion: gate an evaluated checkpoint, export it to ONNX, write the model dir.

Nothing is written unless at least one class passes the gate and the ONNX export passes
its parity check; then ``models/<name>/v<k>/`` is written whole and PROMOTED points at it.
"""

from __future__ import annotations

from pathlib import Path

from augment_gan.contracts.model_dir import ONNX_NAME, REPORT_NAME, SAMPLES_NAME, next_version, write_model_dir
from augment_gan.contracts.reports import EvalReport, GateDecision
from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import AugmentGanError
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.evaluation.runs import best_step
from augment_gan.export.onnx_export import export_checkpoint
from augment_gan.training.checkpoint import resolve_checkpoint


class PromotionRejected(AugmentGanError):
    """No class of the checkpoint passed the gate."""

    def __init__(self, step: int, decision: GateDecision) -> None:
        super().__init__(f"checkpoint step {step} was not promoted: no class passed the gate.")
        self.step, self.decision = step, decision


def resolve_step(run_dir: Path, which: str) -> int:
    return best_step(run_dir) if which == "best" else resolve_checkpoint(run_dir, which)[0]


def load_eval(run_dir: Path, step: int) -> EvalReport:
    return RunDir(run_dir).read_eval_report(step)


def promote_checkpoint(
    run_dir: Path, step: int, thresholds: GateThresholds, models_dir: Path | None = None
) -> tuple[Path, GateDecision]:
    """Gate the evaluated ``step`` and, if any class passes, write and promote a model dir."""
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
    files = {ONNX_NAME: onnx_bytes}
    for fname, source in ((SAMPLES_NAME, run.sample_grid(step)), (REPORT_NAME, run.report_path)):
        if source.is_file():
            files[fname] = source.read_bytes()
    card = {
        **fields,
        "source": {"run_dir": str(run_dir.resolve()), "step": step, "checkpoint": str(checkpoint.resolve()),
                   "data_root": config["data"]["root"], "data_key": config["data"]["key"]},
        "gate": decision,
        "metrics": {"features": report["features"], "judge": report["judge"], "overall": report["overall"],
                    "per_class": report["classes"]},
    }
    model_dir = write_model_dir(models_dir, name, files, card, promote=True, version=version)
    return model_dir, decision
