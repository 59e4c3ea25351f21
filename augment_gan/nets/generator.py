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

    def __init__(self, in_ch: int, out_ch: int, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False)
        self.bn = ConditionalBatchNorm2d(out_ch, num_classes)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return F.relu(self.bn(self.conv(x), y))


class Generator(nn.Module):
    """Maps (z, label) to an image in [-1, 1] of shape (N, channels, resolution, resolution)."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = cfg.generator_widths()
        self.base = widths[0]
        # The class also enters at the input (as in BigGAN's shared embedding), not only
        # through the BatchNorms: the first layer can then lay out class-specific shapes,
        # which makes conditioning appear far earlier in training.
        self.embed = nn.Embedding(cfg.num_classes, cfg.latent_dim)
        # state size: (2 latent) -> (widths[0]) x 4 x 4
        self.fc = nn.Linear(2 * cfg.latent_dim, widths[0] * 4 * 4, bias=False)
        self.bn0 = ConditionalBatchNorm2d(widths[0], cfg.num_classes)
        # each block doubles the side: 4 -> 8 -> 16 -> 32 (-> 64)
        self.blocks = nn.ModuleList(
            UpBlock(w_in, w_out, cfg.num_classes) for w_in, w_out in zip(widths[:-1], widths[1:])
        )
        self.to_image = nn.Conv2d(widths[-1], cfg.channels, 3, padding=1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = self.fc(torch.cat([z, self.embed(y)], dim=1)).view(z.shape[0], self.base, 4, 4)
        x = F.relu(self.bn0(x, y))
        for block in self.blocks:
            x = block(x, y)
        return torch.tanh(self.to_image(x))
