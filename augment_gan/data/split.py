"""Deterministic per-class hold-out split for evaluation."""

from __future__ import annotations

import math

import numpy as np
import torch

from augment_gan.errors import ConfigError

MIN_HOLDOUT = 3  # held out of even a small class, so the utility check has real images the GAN never saw


def holdout_count(n: int, fraction: float, min_train: int = 2, min_holdout: int = MIN_HOLDOUT) -> int:
    """Return how many of a class's ``n`` images are held out (see :func:`holdout_split`)."""
    if fraction <= 0 or n < min_train + 2:
        return 0
    # Half-up rounding: Python's round() would send 2.5 to 2 but 3.5 to 4.
    wanted = max(math.floor(n * fraction + 0.5), min(min_holdout, n // 4))
    return max(1, min(wanted, n - min_train))


def holdout_split(
    labels: torch.Tensor | np.ndarray,
    fraction: float,
    seed: int,
    min_train: int = 2,
    min_holdout: int = MIN_HOLDOUT,
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (train, holdout), both sorted int64 arrays.

    Rule, per class with ``n`` images: if ``fraction > 0`` and ``n >= min_train + 2``,
    hold out ``max(1, min(max(round_half_up(n * fraction), min(min_holdout, n // 4)),
    n - min_train))`` images; otherwise hold out none (a class that small keeps everything
    for training). ``min_holdout`` (3) keeps a few images of a small class out of GAN
    training (at most a quarter of it): 10 % of a 15-image class would be 2. Which images are
    held out is drawn with a generator seeded by ``(seed, class label)``, so a class's
    split depends only on the seed and its own members — adding or removing another
    class does not reshuffle it.

    Raises:
        ConfigError: ``fraction`` outside [0, 1), ``seed`` or ``min_train`` negative.
    """
    if not 0 <= fraction < 1:
        raise ConfigError(f"Hold-out fraction must be in [0, 1), got {fraction!r}.")
    if seed < 0:
        raise ConfigError(f"Seed must be a non-negative integer, got {seed!r}.")
    if min_train < 0:
        raise ConfigError(f"min_train must be non-negative, got {min_train!r}.")
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels).astype(np.int64, copy=False).reshape(-1)

    holdout: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        k = holdout_count(len(members), fraction, min_train, min_holdout)
        if k == 0:
            continue
        # SeedSequence needs non-negative words; labels are class indices, but be safe.
        rng = np.random.default_rng([int(seed), int(label) & 0xFFFFFFFFFFFFFFFF])
        holdout.append(rng.choice(members, size=k, replace=False))
    hold = np.sort(np.concatenate(holdout)) if holdout else np.empty(0, dtype=np.int64)
    train = np.setdiff1d(np.arange(len(labels), dtype=np.int64), hold, assume_unique=True)
    return train, hold.astype(np.int64, copy=False)
