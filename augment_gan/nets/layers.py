"""Small building blocks shared by the generator and the discriminator."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose scale and shift are looked up per class (de Vries et al. 2017).

    The normalisation statistics are shared across classes; only the affine part is
    class-specific, which is what lets one generator draw every class.
    """

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gain = nn.Embedding(num_classes, num_features)
        self.bias = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.bn(x)
        gain = self.gain(y)[:, :, None, None]
        bias = self.bias(y)[:, :, None, None]
        return out * gain + bias


def sn_conv(in_ch: int, out_ch: int, kernel: int, stride: int = 1, padding: int = 0) -> nn.Module:
    """A spectrally normalised convolution (Miyato et al. 2018)."""
    return spectral_norm(nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=padding))


def sn_linear(in_features: int, out_features: int) -> nn.Module:
    return spectral_norm(nn.Linear(in_features, out_features))
