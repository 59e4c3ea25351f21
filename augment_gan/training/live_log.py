"""Live training logs for TensorBoard (``--log tensorboard``, the ``tensorboard`` extra).

Fed the same records that go to metrics.jsonl, so the two never disagree: every logged
window gives the losses, D(real)/D(fake), the learning rates, the step time and (with ADA)
each class's augmentation probability; every checkpoint gives its sample grid (the PNG the
trainer just wrote, one row per class); every evaluation during training gives the metrics
of each class and of all classes together, and how many classes pass the gate.

Written to ``<run dir>/tensorboard/``: ``tensorboard --logdir models/NAME/runs`` compares
runs. Rank 0 only (the trainer logs there alone). A resumed run purges the events after its
resume step, as metrics.jsonl is truncated, so the curves show each step once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from augment_gan.contracts.reports import EvalReport
from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import ConfigError
from augment_gan.run.train_config import LIVE_LOGS

INSTALL_HINT = "--log tensorboard needs the tensorboard package: pip install 'augment-gan[tensorboard]'."
# metrics.jsonl key -> TensorBoard tag, for a logged window
WINDOW_TAGS = {
    "loss_d": "loss/D",
    "loss_g": "loss/G",
    "d_real": "D_output/real",
    "d_fake": "D_output/fake",
    "lr_g": "learning_rate/G",
    "lr_d": "learning_rate/D",
    "sec_per_step": "speed/sec_per_step",
    "images_per_s": "speed/images_per_s",
}


def report_metrics(record: dict[str, Any]) -> dict[str, float]:
    """The metrics of an evaluation report's class (or overall) record: its float values
    (counts are ints, the band a dict), so a metric registered in evaluation/registry.py is
    logged without being named here."""
    return {k: v for k, v in record.items() if isinstance(v, float)}


class TensorBoardLog:
    """One run's event files; ``record`` takes metrics.jsonl records, ``evaluation`` a report."""

    def __init__(self, run_dir: Path, classes: list[str], start_step: int = 0) -> None:
        from torch.utils.tensorboard import SummaryWriter  # the extra: open_live_log checked it is there

        self.run, self.classes = RunDir(run_dir), classes
        self.dir = Path(run_dir) / "tensorboard"
        # purge_step: the events of steps after the resume point (logged before an interruption)
        # are dropped when TensorBoard reads the files; the resume point's own stay.
        self.writer = SummaryWriter(str(self.dir), purge_step=start_step + 1 if start_step else None)

    def record(self, record: dict[str, Any]) -> None:
        step = record["step"]
        if record.get("event") == "checkpoint":
            self._grid(step)
        elif "loss_d" in record:
            for key, tag in WINDOW_TAGS.items():
                if key in record:
                    self.writer.add_scalar(tag, record[key], step)
            for name, p in zip(self.classes, record.get("augment_p", [])):
                self.writer.add_scalar(f"augment_p/{name}", p, step)

    def evaluation(self, report: EvalReport) -> None:
        step = report["step"]
        for name, record in [*report["classes"].items(), ("all classes", report["overall"])]:
            for metric, value in report_metrics(record).items():
                self.writer.add_scalar(f"eval_{metric}/{name}", value, step)
        if "gate" in report:
            self.writer.add_scalar("gate/classes_passing", len(report["gate"]["passed_classes"]), step)
        self.writer.flush()

    def _grid(self, step: int) -> None:
        from PIL import Image

        path = self.run.sample_grid(step)
        if path.is_file():
            with Image.open(path) as img:
                self.writer.add_image("samples", np.asarray(img.convert("RGB")), step, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def open_live_log(kind: str, run_dir: Path, classes: list[str], start_step: int = 0) -> TensorBoardLog | None:
    """The live log ``kind`` asks for (``none``: None); a one-line ConfigError without the extra."""
    check_live_log(kind)
    return TensorBoardLog(run_dir, classes, start_step) if kind == "tensorboard" else None


def check_live_log(kind: str) -> None:
    """Fail before any work when ``kind`` cannot be logged here (the extra is missing)."""
    if kind not in LIVE_LOGS:
        raise ConfigError(f"--log must be one of {', '.join(LIVE_LOGS)}, got {kind!r}.")
    if kind == "tensorboard":
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            raise ConfigError(INSTALL_HINT) from None
