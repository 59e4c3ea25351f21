"""DiffAugment with a per-class adaptive strength (ADA's heuristic, applied per class).

ADA (Karras et al. 2020) applies D's augmentations with a probability p, raised while D
over-fits its real images (the share of reals it scores positive, r = E[sign D(x)], above a
target) and lowered otherwise. On an imbalanced folder D over-fits the small classes first
and alone: their few images are memorised while the big classes are still being learnt. So
here p is kept per class: a class's reals and fakes are augmented with its own probability,
which starts at 0 (plain training, the fastest start at a CPU budget) and rises only for the
classes D begins to memorise.
"""

from __future__ import annotations

import torch

from augment_gan.training.diffaugment import Shard, diff_augment
from augment_gan.training.distributed import Dist

ADA_INTERVAL = 4  # G steps between updates of p
ADA_STEP = ADA_INTERVAL / 500  # p can go from 0 to 1 in 500 steps


class ClassAdaptiveAugment:
    """``augment(x, y, rng, shard)``: the DiffAugment ``policy`` applied to each image with its
    class's probability ``p[y]`` (always, when ``target`` is 0: plain DiffAugment; with
    ``only``, a bool per class, always for those classes and never for the others).

    ``observe(d_real, y)`` after each D step and ``update(dist)`` every :data:`ADA_INTERVAL`
    steps move each class's p by :data:`ADA_STEP` towards keeping its r at ``target``."""

    def __init__(
        self,
        num_classes: int,
        policy: tuple[str, ...],
        target: float,
        device: torch.device,
        only: torch.Tensor | None = None,
    ) -> None:
        self.policy, self.target = policy, float(target)
        self.p = torch.zeros(num_classes, device=device)
        # ``only`` (bool per class): the policy always for these classes, never for the rest
        self.only = None if only is None else only.to(device=device, dtype=torch.bool)
        self._signs = torch.zeros(num_classes, device=device)
        self._counts = torch.zeros(num_classes, device=device)

    @property
    def adaptive(self) -> bool:
        return bool(self.policy) and self.target > 0

    def __call__(self, x: torch.Tensor, y: torch.Tensor, rng: torch.Generator, shard: Shard) -> torch.Tensor:
        if not self.policy:
            return x
        augmented = diff_augment(x, self.policy, rng, shard)
        if self.only is not None:
            return torch.where(self.only[y].view(-1, *([1] * (x.dim() - 1))), augmented, x)
        if not self.adaptive:
            return augmented
        rank, world = shard
        n = x.shape[0]
        draw = torch.rand(n * world, device=x.device, generator=rng)[rank * n : (rank + 1) * n]
        chosen = (draw < self.p[y]).view(-1, *([1] * (x.dim() - 1)))
        return torch.where(chosen, augmented, x)

    def observe(self, d_real: torch.Tensor, y: torch.Tensor) -> None:
        if self.adaptive:
            self._signs.index_add_(0, y, torch.sign(d_real.detach().float().view(-1)))
            self._counts.index_add_(0, y, torch.ones_like(self._counts[y]))

    def update(self, dist: Dist) -> None:
        """Move p (the same on every rank: the tallies are summed over ranks first)."""
        if not self.adaptive:
            return
        signs, counts = torch.tensor(
            dist.mean([*self._signs.tolist(), *self._counts.tolist()], self.p.device), device=self.p.device
        ).view(2, -1)
        seen = counts > 0
        r = torch.where(seen, signs / counts.clamp_min(1e-12), torch.zeros_like(signs))
        move = torch.sign(r - self.target) * ADA_STEP * seen
        self.p = (self.p + move.to(self.p.dtype)).clamp(0.0, 1.0)
        self._signs.zero_()
        self._counts.zero_()

    def state_dict(self) -> dict:
        return {"p": self.p.clone(), "signs": self._signs.clone(), "counts": self._counts.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.p = state["p"].to(self.p.device)
        self._signs.copy_(state["signs"])
        self._counts.copy_(state["counts"])
