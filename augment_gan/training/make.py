"""A :class:`Trainer` for a :class:`~augment_gan.run.Run`: its spec, its training split, a device."""

from __future__ import annotations

import torch

from augment_gan.run import Run
from augment_gan.training.device import pick_device
from augment_gan.training.distributed import Dist
from augment_gan.training.trainer import Trainer


def make_trainer(
    run: Run,
    *,
    steps: int | None = None,
    device: str | torch.device = "auto",
    dist: Dist | None = None,
    precision: str = "fp32",
    channels_last: bool = False,
) -> Trainer:
    """A trainer for the run (``steps``: a new step budget, saved with the run by rank 0), on its training split."""
    dist = dist or Dist()
    if steps is not None and steps != run.spec.train.steps and dist.is_main:
        run.set_steps(steps)
    spec = run.spec if steps is None else run.spec.with_changes(train={"steps": steps})
    train_idx, _ = run.split
    device = device if isinstance(device, torch.device) else pick_device(device)
    return Trainer(
        run.path,
        run.data.images[train_idx],
        run.data.labels[train_idx],
        spec.net,
        spec.train,
        device,
        dist=dist,
        precision=precision,
        channels_last=channels_last,
    )
