"""Which real images a batch holds: class-weighted, in groups of one class.

Real images are drawn with weight ``n_class ** -class_balance`` (1: every class equally
often). For D's per-class minibatch std, a batch comes in groups of :data:`CLASS_GROUP`
consecutive images of one class: a group's first image is drawn with the weighting, the
rest uniformly from its class. Every draw is for the global batch, from a generator all
DDP ranks share, so the stream does not depend on the number of processes.
"""

from __future__ import annotations

import torch

CLASS_GROUP = 4  # images of one class drawn together, for D's per-class minibatch std


class ClassGroupSampler:
    """Draws global batches of indices into ``labels`` (on ``labels.device``)."""

    def __init__(self, labels: torch.Tensor, num_classes: int, class_balance: float, group: int) -> None:
        counts = torch.bincount(labels, minlength=num_classes)
        self.labels, self.group = labels, group
        self.weights = counts.clamp(min=1).double()[labels] ** -class_balance
        # by_class[start[k] : start[k] + count[k]] are the indices of class k
        self.by_class = torch.argsort(labels, stable=True)
        self.class_start = torch.cumsum(counts, 0) - counts
        self.class_count = counts

    def draw(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """``n`` indices: ``ceil(n / group)`` weighted leads, each followed by ``group - 1``
        uniform mates of its class (a batch of 64 holds 16 groups of 4)."""
        g = self.group
        leads = torch.multinomial(self.weights, -(-n // g), replacement=True, generator=rng)
        if g == 1:
            return leads
        k = self.labels[leads]
        u = torch.rand(len(leads), g - 1, device=self.labels.device, generator=rng)
        offset = torch.minimum((u * self.class_count[k, None]).long(), self.class_count[k, None] - 1)
        mates = self.by_class[self.class_start[k, None] + offset]
        return torch.cat([leads[:, None], mates], dim=1).flatten()[:n]
