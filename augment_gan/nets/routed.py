"""One generator per group of classes: class c's images come from ``generators[route[c]]``.

A run's classes do not peak at the same step: a small class can be at its best at step 750
and copying its few images by step 2,000, while the big classes keep improving. Promote
keeps each class's best evaluated step by routing each class to the EMA generator of its
step. Each sample runs through its own class's generator only (the batch is split by
``NonZero``/``Gather`` and put back with ``ScatterND`` in the ONNX graph), so a routed model
costs what one generator does per image; only its file grows, by one generator per step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class ClassRouted(nn.Module):
    """``forward(z, label)``: ``generators[route[label[i]]](z[i], label[i])`` for each i, in order."""

    def __init__(self, generators: Sequence[nn.Module], route: Sequence[int]) -> None:
        super().__init__()
        if sorted(set(route)) != list(range(len(generators))):
            raise ValueError(f"route {list(route)} must use each of the {len(generators)} generators")
        self.generators = nn.ModuleList(generators)
        self.register_buffer("route", torch.as_tensor(list(route), dtype=torch.int64))

    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        which = self.route[label]
        out: torch.Tensor | None = None
        for k, generator in enumerate(self.generators):
            idx = torch.nonzero(which == k).flatten()
            part = generator(z.index_select(0, idx), label.index_select(0, idx))
            if out is None:
                out = part.new_zeros((z.shape[0], *part.shape[1:]))
            out = out.index_put((idx,), part)
        assert out is not None
        return out
