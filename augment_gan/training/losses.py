"""GAN losses: discriminator and generator halves, plus the WGAN-GP gradient penalty.

Each loss takes raw discriminator logits. ``d_loss(real, fake)`` is minimised by D and
``g_loss(fake)`` by G.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from augment_gan.run.train_config import LOSSES  # the names TrainConfig accepts; get_loss builds each


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def ns_d(real: torch.Tensor, fake: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """Binary cross-entropy; ``real_label < 1`` is one-sided label smoothing (Salimans 2016)."""
    target = torch.full_like(real, real_label)
    return F.binary_cross_entropy_with_logits(real, target) + F.softplus(fake).mean()


def ns_g(fake: torch.Tensor) -> torch.Tensor:
    # -log(sigmoid(fake)): the non-saturating generator loss of Goodfellow et al. 2014.
    return F.softplus(-fake).mean()


def wgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return fake.mean() - real.mean()


def wgan_g(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()


def lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((fake - 1.0) ** 2).mean()


def gradient_penalty(
    discriminator: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor,
    generator: torch.Generator | None = None,
    shard: tuple[int, int] = (0, 1),
) -> torch.Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates (Gulrajani et al. 2017).

    ``shard`` = (rank, world size): draw the interpolation weights for the global batch and
    keep this rank's rows (see :mod:`augment_gan.training.distributed`)."""
    rank, world = shard
    n = real.shape[0]
    alpha = torch.rand(n * world, 1, 1, 1, device=real.device, generator=generator)[rank * n : (rank + 1) * n]
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = discriminator(x_hat, labels)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()


def mode_seeking_penalty(fake: torch.Tensor, z: torch.Tensor, half: int, eps: float = 1e-5) -> torch.Tensor:
    """MSGAN's term (Mao et al. 2019): rows i and half + i share a label and differ in z;
    the penalty 1 / (mean |G(z1) - G(z2)| / mean |z1 - z2|) grows as G ignores its noise."""
    d_img = (fake[:half] - fake[half : 2 * half]).abs().mean()
    d_z = (z[:half] - z[half : 2 * half]).abs().mean()
    return 1.0 / (d_img / d_z + eps)


def lecam_penalty(
    d_real: torch.Tensor, d_fake: torch.Tensor, ema_real: torch.Tensor, ema_fake: torch.Tensor
) -> torch.Tensor:
    """LeCam's term (Tseng et al. 2021): D's scores on reals above the running mean of its
    scores on fakes, and on fakes below the running mean on reals, are penalised."""
    return (F.relu(d_real - ema_fake) ** 2).mean() + (F.relu(ema_real - d_fake) ** 2).mean()


def topk_fraction(final: float, step: int, steps: int) -> float:
    """Top-k's kept fraction at ``step``: 1 at the start, ``final`` from the last step on."""
    return 1.0 - (1.0 - final) * min(1.0, step / max(steps, 1))


@dataclass(frozen=True)
class GanLoss:
    """A loss variant by name: the two halves and whether it needs the gradient penalty."""

    name: str
    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    uses_gradient_penalty: bool = False


def get_loss(name: str, label_smoothing: float = 0.0) -> GanLoss:
    """Look up a loss by CLI name. ``label_smoothing`` applies to ``ns`` only."""
    if name == "hinge":
        return GanLoss(name, hinge_d, hinge_g)
    if name == "ns":
        real_label = 1.0 - label_smoothing
        return GanLoss(name, lambda r, f: ns_d(r, f, real_label), ns_g)
    if name == "wgan-gp":
        return GanLoss(name, wgan_d, wgan_g, uses_gradient_penalty=True)
    if name == "lsgan":
        return GanLoss(name, lsgan_d, lsgan_g)
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
