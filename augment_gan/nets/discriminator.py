"""Spectral-norm projection discriminator (Miyato & Koyama 2018)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from augment_gan.nets.config import NetConfig
from augment_gan.nets.layers import sn_conv, sn_linear


class DownBlock(nn.Module):
    """3x3 conv then 4x4 stride-2 conv, both spectrally normalised, LeakyReLU(0.1)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv1 = sn_conv(in_ch, out_ch, 3, padding=1)
        self.conv2 = sn_conv(out_ch, out_ch, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(x), 0.1)
        return F.leaky_relu(self.conv2(x), 0.1)


class Discriminator(nn.Module):
    """Scores (image, label) pairs; the label enters through an inner-product projection.

    logit = psi(phi(x)) + <embed(y), phi(x)>, with phi(x) the globally sum-pooled features.
    """

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = cfg.discriminator_widths()
        chans = [cfg.channels, *widths]
        # each block halves the side: 32 -> 16 -> 8 -> 4 (64 adds one more)
        self.blocks = nn.Sequential(*(DownBlock(a, b) for a, b in zip(chans[:-1], chans[1:])))
        self.last = sn_conv(widths[-1], widths[-1], 3, padding=1)
        self.linear = sn_linear(widths[-1], 1)
        self.embed = nn.utils.parametrizations.spectral_norm(
            nn.Embedding(cfg.num_classes, widths[-1])
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.last(self.blocks(x)), 0.1)
        h = h.sum(dim=(2, 3))  # state size: (N, widths[-1])
        projection = (self.embed(y) * h).sum(dim=1)
        return self.linear(h).squeeze(1) + projection
