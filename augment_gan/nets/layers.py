"""Small building blocks shared by the generator and the discriminator."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose scale and shift are predicted from a condition vector
    (de Vries et al. 2017; BigGAN's variant, Brock et al. 2019).

    The normalisation statistics are shared; the affine part comes from ``cond``, which
    holds the class embedding and a slice of z, so both the class and the noise steer
    every layer. Zero-initialised, so training starts from plain BatchNorm.
    """

    def __init__(self, num_features: int, cond_dim: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gain = nn.Linear(cond_dim, num_features, bias=False)
        self.bias = nn.Linear(cond_dim, num_features, bias=False)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        out = self.bn(x)
        gain = 1.0 + self.gain(cond)[:, :, None, None]
        bias = self.bias(cond)[:, :, None, None]
        return out * gain + bias


def sn_conv(in_ch: int, out_ch: int, kernel: int, stride: int = 1, padding: int = 0) -> nn.Module:
    """A spectrally normalised convolution (Miyato et al. 2018)."""
    return spectral_norm(nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=padding))


def sn_linear(in_features: int, out_features: int) -> nn.Module:
    return spectral_norm(nn.Linear(in_features, out_features))
