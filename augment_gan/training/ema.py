"""Exponential moving average of the generator's weights, and BatchNorm re-estimation."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps ``shadow``, a copy of ``model`` whose parameters track an EMA of the model's.

    Only parameters are averaged. BatchNorm running statistics of the shadow are instead
    re-estimated with :func:`recalibrate_batchnorm` before it is sampled from: statistics
    gathered under the live weights do not match the averaged weights.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for ema_p, p in zip(self.shadow.parameters(), model.parameters()):
            ema_p.lerp_(p.detach(), 1.0 - self.decay)


@torch.no_grad()
def recalibrate_batchnorm(
    generator: nn.Module,
    num_classes: int,
    latent_dim: int,
    *,
    batches: int = 16,
    batch_size: int = 64,
    seed: int = 0,
) -> None:
    """Re-estimate the generator's BatchNorm statistics on fresh samples ("standing stats").

    Uses its own seeded RNG so that calling it never disturbs the training RNG stream
    (which would break exact resume). Leaves the module in eval mode.
    """
    device = next(generator.parameters()).device
    rng = torch.Generator(device="cpu").manual_seed(seed)
    bns = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved_momentum = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over all calibration batches
    generator.train()
    for _ in range(batches):
        z = torch.randn(batch_size, latent_dim, generator=rng).to(device)
        y = torch.randint(0, num_classes, (batch_size,), generator=rng).to(device)
        generator(z, y)
    for bn, momentum in zip(bns, saved_momentum):
        bn.momentum = momentum
    generator.eval()
