"""Promotion: gate an evaluated checkpoint, export it to ONNX, write the model dir.

Nothing is written unless at least one class passes the gate and the ONNX export passes
its parity check; then ``models/<name>/v<k>/`` is written whole and PROMOTED points at it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from augment_gan.errors import AugmentGanError
from augment_gan.evaluation.evaluate import eval_path
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.evaluation.runs import best_step
from augment_gan.export.onnx_export import export_checkpoint
from augment_gan.registry import next_version, write_model_dir
from augment_gan.training.checkpoint import resolve_checkpoint
from augment_gan.training.rundir import read_run_config


class PromotionRejected(AugmentGanError):
    """No class of the checkpoint passed the gate."""

    def __init__(self, step: int, decision: dict[str, Any]) -> None:
        super().__init__(f"checkpoint step {step} was not promoted: no class passed the gate.")
        self.step, self.decision = step, decision


def models_dir_of(run_dir: Path) -> Path:
    """models/<name>/runs/<run-id> -> models."""
    return Path(run_dir).resolve().parent.parent.parent


def resolve_step(run_dir: Path, which: str) -> int:
    return best_step(run_dir) if which == "best" else resolve_checkpoint(run_dir, which)[0]


def load_eval(run_dir: Path, step: int) -> dict[str, Any]:
    path = eval_path(run_dir, step)
    if not path.is_file():
        raise AugmentGanError(
            f"checkpoint step {step} has not been evaluated; run `augment-gan evaluate {run_dir} --checkpoint {step}` first."
        )
    return json.loads(path.read_text())


def promote_checkpoint(
    run_dir: Path, step: int, thresholds: GateThresholds, models_dir: Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """Gate the evaluated ``step`` and, if any class passes, write and promote a model dir."""
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    name = config["name"]
    report = load_eval(run_dir, step)
    decision = apply_gate(report, thresholds)
    if not decision["passed_classes"]:
        raise PromotionRejected(step, decision)
    models_dir = Path(models_dir) if models_dir is not None else models_dir_of(run_dir)
    version = next_version(models_dir, name)
    _, checkpoint = resolve_checkpoint(run_dir, step)
    onnx_bytes, fields = export_checkpoint(checkpoint, config, name=name, version=version)
    files = {"generator.onnx": onnx_bytes}
    for fname, source in (("samples.png", run_dir / "samples" / f"step-{step:07d}.png"),
                          ("report.html", run_dir / "report.html")):
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
