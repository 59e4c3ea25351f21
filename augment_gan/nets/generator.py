"""Class-conditional generator: upsample + conv blocks with conditional BatchNorm."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from augment_gan.nets.config import NetConfig
from augment_gan.nets.layers import ConditionalBatchNorm2d


class UpBlock(nn.Module):
    """x2 nearest upsample, 3x3 conv, conditional BN, ReLU.

    Upsample + conv rather than transposed conv: it avoids checkerboard artefacts, which
    at 32x32 are a large share of the image.
    """

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False)
        self.bn = ConditionalBatchNorm2d(out_ch, cond_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return F.relu(self.bn(self.conv(x), cond))


class Generator(nn.Module):
    """Maps (z, label) to an image in [-1, 1] of shape (N, channels, resolution, resolution).

    BigGAN-style conditioning: a shared class embedding enters at the input and, with its
    own slice of z ("skip-z"), every conditional BatchNorm. Measured on the digits: class
    BatchNorm alone took >750 steps to show any class structure; the input embedding
    gave clean per-class digits in 200 steps but nearly identical samples within a class,
    which the per-layer z slices counter.
    """

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = cfg.generator_widths()
        self.base = widths[0]
        self.embed_dim = embed_dim = min(cfg.latent_dim, 64)
        self.embed = nn.Embedding(cfg.num_classes, embed_dim)
        # z is split into one slice for the input and one per conditional BatchNorm.
        n_slices = len(widths) + 1
        bounds = [round(i * cfg.latent_dim / n_slices) for i in range(n_slices + 1)]
        self.z_slices = list(zip(bounds[:-1], bounds[1:]))
        sizes = [b - a for a, b in self.z_slices]
        # state size: (z slice + embedding) -> (widths[0]) x 4 x 4
        self.fc = nn.Linear(sizes[0] + embed_dim, widths[0] * 4 * 4, bias=False)
        self.bn0 = ConditionalBatchNorm2d(widths[0], sizes[1] + embed_dim)
        # each block doubles the side: 4 -> 8 -> 16 -> 32 (-> 64)
        self.blocks = nn.ModuleList(
            UpBlock(w_in, w_out, size + embed_dim) for w_in, w_out, size in zip(widths[:-1], widths[1:], sizes[2:])
        )
        self.to_image = nn.Conv2d(widths[-1], cfg.channels, 3, padding=1)

    def forward(self, z: torch.Tensor, y: torch.Tensor, class_noise: torch.Tensor | None = None) -> torch.Tensor:
        """``class_noise`` (N, embed_dim), training only: added to the class embeddings
        (NoisyTwins' embedding noise, :mod:`augment_gan.training.long_tail`)."""
        e = self.embed(y)
        if class_noise is not None:
            e = e + class_noise
        conds = [torch.cat([z[:, a:b], e], dim=1) for a, b in self.z_slices]
        x = self.fc(conds[0]).view(z.shape[0], self.base, 4, 4)
        x = F.relu(self.bn0(x, conds[1]))
        for block, cond in zip(self.blocks, conds[2:]):
            x = block(x, cond)
        return torch.tanh(self.to_image(x))

    def class_affines(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per conditional BatchNorm, the class's share of its gain and shift: two (classes,
        features) tensors, what each class's embedding adds (z's share left out; gSR's
        gamma_y and beta_y, Rangwani et al. 2022). Differentiable."""
        e = self.embed.weight  # (K, embed_dim); the embedding is the last slice of every cond
        layers = [self.bn0, *(block.bn for block in self.blocks)]
        return [
            (e @ bn.gain.weight[:, -self.embed_dim :].t(), e @ bn.bias.weight[:, -self.embed_dim :].t())
            for bn in layers
        ]
