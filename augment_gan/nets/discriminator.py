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


def minibatch_std(h: torch.Tensor, group: int = 4) -> torch.Tensor:
    """One feature map: the std over groups of ``group`` samples, averaged, per sample."""
    n, c, height, width = h.shape
    g = min(group, n)
    while n % g:
        g -= 1
    grouped = h.reshape(g, n // g, c, height, width)
    std = (grouped.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (n // g,)
    return std.repeat(g)[:, None, None, None].expand(n, 1, height, width)


def class_minibatch_std(h: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One feature map: per sample, the std among the batch's samples of its class.

    The whole-batch version above mostly measures how different the classes are, which a
    generator that draws one image per class still matches; this one is ~0 for exactly that
    generator and not for real data. A class with one sample in the batch gets 0."""
    n, _, height, width = h.shape
    flat = h.reshape(n, -1).float()
    # One-hot matmuls rather than indexing by y: the backward of indexing accumulates in a
    # nondeterministic order on CPU, and training must repeat bit for bit.
    onehot = F.one_hot(y, num_classes).to(flat.dtype)  # (N, K)
    counts = onehot.sum(0)  # (K,)

    def class_mean(t: torch.Tensor) -> torch.Tensor:  # (N, F) -> (K, F)
        return (onehot.t() @ t) / counts.clamp(min=1)[:, None]

    deviation = flat - onehot @ class_mean(flat)
    std = (class_mean(deviation.pow(2)) + 1e-8).sqrt().mean(1) * (counts > 1)  # (K,)
    return (onehot @ std).to(h.dtype)[:, None, None, None].expand(n, 1, height, width)


class Discriminator(nn.Module):
    """Scores (image, label) pairs; the label enters through an inner-product projection.

    logit = psi(phi(x)) + <embed(y), phi(x)>, with phi(x) the globally sum-pooled features.
    ``heads=True`` returns (psi(phi(x)), logit): the class-free score alone, then the
    conditional one (transitional training, Shahbazi et al. 2022, keeps both).
    """

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = cfg.discriminator_widths()
        chans = [cfg.channels, *widths]
        # each block halves the side: 32 -> 16 -> 8 -> 4 (64 adds one more)
        self.blocks = nn.Sequential(*(DownBlock(a, b) for a, b in zip(chans[:-1], chans[1:])))
        # +1 input channel: the minibatch standard deviation (Karras et al. 2018), which
        # lets D see a lack of variety that no single image shows; without it the digits
        # generator drew near-identical samples within each class. cfg.minibatch_std says
        # over which samples (see class_minibatch_std).
        self.last = sn_conv(widths[-1] + 1, widths[-1], 3, padding=1)
        self.linear = sn_linear(widths[-1], 1)
        self.embed = nn.utils.parametrizations.spectral_norm(nn.Embedding(cfg.num_classes, widths[-1]))

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, heads: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        h = self.blocks(x)
        if self.cfg.minibatch_std == "class":
            spread = class_minibatch_std(h, y, self.cfg.num_classes)
        else:
            spread = minibatch_std(h)
        h = F.leaky_relu(self.last(torch.cat([h, spread], dim=1)), 0.1)
        h = h.sum(dim=(2, 3))  # state size: (N, widths[-1])
        projection = (self.embed(y) * h).sum(dim=1)
        free = self.linear(h).squeeze(1)
        return (free, free + projection) if heads else free + projection
