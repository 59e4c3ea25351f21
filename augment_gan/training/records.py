"""What the training loop logs to metrics.jsonl, and the progress bar it shows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from torch import nn

if TYPE_CHECKING:
    from augment_gan.training.trainer import Trainer


@dataclass
class StepStats:
    loss_d: float
    loss_g: float
    d_real: float
    d_fake: float


def progress_bar(enabled: bool) -> Progress:
    """Step count, speed and the last logged losses; disabled (silent) on non-main ranks."""
    columns = (
        TextColumn("[bold]train[/] step {task.completed}/{task.total}"),
        BarColumn(),
        TextColumn("{task.fields[speed]} it/s  D {task.fields[loss_d]}  G {task.fields[loss_g]}"),
        TimeRemainingColumn(),
    )
    return Progress(*columns, disable=not enabled, transient=False)


def start_record(trainer: Trainer) -> dict:
    """What this (re)start trains with: world size, effective batch, learning rates."""
    return {
        "step": trainer.step,
        "event": "start",
        "device": str(trainer.device),
        "world_size": trainer.dist.world_size,
        "backend": trainer.dist.backend,
        "batch_size": trainer.cfg.batch_size,
        "batch_per_process": trainer.cfg.batch_size // trainer.dist.world_size,
        "lr_g": trainer.cfg.lr_g,
        "lr_d": trainer.cfg.lr_d,
        "precision": trainer.precision,
        "channels_last": trainer.channels_last,
        "sync_batchnorm": any(isinstance(m, nn.SyncBatchNorm) for m in trainer.G.modules()),
        "time": time.time(),
    }


def window_record(trainer: Trainer, window: list[StepStats], sec_per_step: float) -> dict:
    n = len(window)
    means = [sum(getattr(s, k) for s in window) / n for k in ("loss_d", "loss_g", "d_real", "d_fake")]
    loss_d, loss_g, d_real, d_fake = trainer.dist.mean(means, trainer.device)  # over all ranks
    record = {
        "step": trainer.step,
        "loss_d": loss_d,
        "loss_g": loss_g,
        "d_real": d_real,
        "d_fake": d_fake,
        "lr_g": trainer.opt_g.param_groups[0]["lr"],
        "lr_d": trainer.opt_d.param_groups[0]["lr"],
        "sec_per_step": sec_per_step,
        "images_per_s": trainer.cfg.batch_size / sec_per_step,
        "time": time.time(),
    }
    if trainer.augment.adaptive:  # each class's DiffAugment probability
        record["augment_p"] = [round(p, 4) for p in trainer.augment.p.tolist()]
    return record
