"""Differentiable augmentation for data-efficient GAN training (Zhao et al. 2020).

The same random transforms are applied to real and fake images before D sees them, and
they are differentiable, so G still gets gradients through them. Follows the reference
implementation (mit-han-lab/data-efficient-gans, BSD-2) with images in [-1, 1].
"""

from __future__ import annotations

import math

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


def _resample(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """x sampled at ``grid`` (normalised coordinates), bilinear; outside, the nearest edge pixel."""
    return F.grid_sample(x, grid.to(x.dtype), mode="bilinear", padding_mode="border", align_corners=False)


def rand_affine(
    x: torch.Tensor,
    g: Rng = None,
    shard: Shard = NO_SHARD,
    degrees: float = 10.0,
    translate: float = 0.1,
    scale: tuple[float, float] = (0.9, 1.1),
) -> torch.Tensor:
    """The classifier recipe's RandomAffine (rotation +-10 deg, shift +-10 %, scale 0.9-1.1),
    differentiable: one draw per image."""
    u = _draw(x.size(0), shard, lambda n: torch.rand(n, 4, device=x.device, generator=g))
    angle = (u[:, 0] * 2 - 1) * math.radians(degrees)
    zoom = scale[0] + u[:, 1] * (scale[1] - scale[0])
    shift = (u[:, 2:] * 2 - 1) * translate * 2  # normalised coordinates span 2
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    return _resample(x, F.affine_grid(theta, list(x.shape), align_corners=False))


def rand_elastic(
    x: torch.Tensor, g: Rng = None, shard: Shard = NO_SHARD, alpha: float = 34.0, sigma: float = 4.0
) -> torch.Tensor:
    """The classifier recipe's elastic field (Simard et al. 2003: alpha 34, sigma 4 at 28 px,
    scaled with the side as ``benchmarks.classifier.elastic_for`` does), as torchvision's
    ElasticTransform draws it (uniform noise, Gaussian-blurred, times alpha / side), differentiable."""
    n, _, h, w = x.shape
    alpha, sigma = alpha * (h / 28) ** 2, sigma * h / 28
    noise = _draw(n, shard, lambda m: torch.rand(m, 2, h, w, device=x.device, generator=g)) * 2 - 1
    k = int(8 * sigma + 1) | 1
    pad = min(k // 2, h - 1, w - 1)
    r = torch.arange(-pad, pad + 1, device=x.device, dtype=noise.dtype)
    kernel = torch.exp(-(r**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    d = F.pad(noise.reshape(n * 2, 1, h, w), [pad] * 4, mode="reflect")
    d = F.conv2d(F.conv2d(d, kernel.view(1, 1, 1, -1)), kernel.view(1, 1, -1, 1))
    field = (d.view(n, 2, h, w) * alpha / h).permute(0, 2, 3, 1)
    identity = torch.eye(2, 3, device=x.device, dtype=noise.dtype).expand(n, 2, 3)
    return _resample(x, F.affine_grid(identity, list(x.shape), align_corners=False) + field)


# One entry per name in run/train_config.py's DIFFAUGMENT_OPS (which the policy parser checks).
AUGMENTS = {
    "color": (rand_brightness, rand_saturation, rand_contrast),
    "translation": (rand_translation,),
    "cutout": (rand_cutout,),
    # the strongest classic classifier recipe's transforms, as D's augmentation (issue 25)
    "affine": (rand_affine,),
    "elastic": (rand_elastic,),
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
