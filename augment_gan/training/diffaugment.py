"""Differentiable augmentation for data-efficient GAN training (Zhao et al. 2020).

The same random transforms are applied to real and fake images before D sees them, and
they are differentiable, so G still gets gradients through them. Follows the reference
implementation (mit-han-lab/data-efficient-gans, BSD-2) with images in [-1, 1].
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

# Defined with the config (torch-free), kept importable from here.
from augment_gan.run.train_config import FULL_POLICY, parse_policy  # noqa: F401

Rng = torch.Generator | None
# (rank, world_size): under distributed training every rank draws the parameters for the
# global batch from the same RNG and keeps its own rows, so the RNG stream (and a resumed
# run) does not depend on the number of processes.
Shard = tuple[int, int]
NO_SHARD: Shard = (0, 1)


def _draw(n: int, shard: Shard, draw) -> torch.Tensor:
    rank, world = shard
    return draw(n * world)[rank * n : (rank + 1) * n]


def _rand(x: torch.Tensor, g: Rng, shard: Shard) -> torch.Tensor:
    return _draw(x.size(0), shard, lambda n: torch.rand(n, 1, 1, 1, device=x.device, generator=g))


def _randint(low: int, high: int, x: torch.Tensor, g: Rng, shard: Shard) -> torch.Tensor:
    return _draw(x.size(0), shard, lambda n: torch.randint(low, high, size=[n, 1, 1], device=x.device, generator=g))


def rand_brightness(x: torch.Tensor, g: Rng = None, shard: Shard = NO_SHARD) -> torch.Tensor:
    return x + (_rand(x, g, shard) - 0.5)


def rand_saturation(x: torch.Tensor, g: Rng = None, shard: Shard = NO_SHARD) -> torch.Tensor:
    if x.size(1) == 1:  # saturation is meaningless for grayscale
        return x
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_rand(x, g, shard) * 2) + mean


def rand_contrast(x: torch.Tensor, g: Rng = None, shard: Shard = NO_SHARD) -> torch.Tensor:
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_rand(x, g, shard) + 0.5) + mean


def rand_translation(x: torch.Tensor, g: Rng = None, shard: Shard = NO_SHARD, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sx, sy = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = _randint(-sx, sx + 1, x, g, shard)
    ty = _randint(-sy, sy + 1, x, g, shard)
    gb, gx, gy = torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(h, device=x.device),
        torch.arange(w, device=x.device),
        indexing="ij",
    )
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def rand_cutout(x: torch.Tensor, g: Rng = None, shard: Shard = NO_SHARD, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = _randint(0, h + (1 - ch % 2), x, g, shard)
    oy = _randint(0, w + (1 - cw % 2), x, g, shard)
    gb, gx, gy = torch.meshgrid(
        torch.arange(n, device=x.device),
        torch.arange(ch, device=x.device),
        torch.arange(cw, device=x.device),
        indexing="ij",
    )
    gx = torch.clamp(gx + ox - ch // 2, min=0, max=h - 1)
    gy = torch.clamp(gy + oy - cw // 2, min=0, max=w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


# One entry per name in run/train_config.py's DIFFAUGMENT_OPS (which the policy parser checks).
AUGMENTS = {
    "color": (rand_brightness, rand_saturation, rand_contrast),
    "translation": (rand_translation,),
    "cutout": (rand_cutout,),
}


def diff_augment(
    x: torch.Tensor, policy: tuple[str, ...], generator: Rng = None, shard: Shard = NO_SHARD
) -> torch.Tensor:
    """Apply the policy's transforms in order; an empty policy returns x unchanged.

    ``generator`` (on x's device) makes the draws reproducible without touching the
    global RNG; ``shard`` makes ``x`` this rank's rows of a global batch."""
    for name in policy:
        for fn in AUGMENTS[name]:
            x = fn(x, generator, shard)
    return x
