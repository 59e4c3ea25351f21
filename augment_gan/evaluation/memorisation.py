"""Memorisation check: are synthetic samples copies of training images?

A synthetic sample is called a copy when it is closer to its nearest training image than
almost every *held-out* real image is to its nearest training image. Held-out images come
from the same distribution as the training set but were never trained on, so their
nearest-training distances show how close "new but similar" gets; the ``percentile``-th
percentile of those distances is the threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augment_gan.evaluation.distances import DEFAULT_CHUNK_SIZE, nearest_neighbours
from augment_gan.evaluation.features import Features, as_feature_tensor, check_same_dim


def copy_check(
    train_features: Features,
    holdout_features: Features,
    fake_features: Features,
    *,
    percentile: float = 1.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, Any]:
    """Return the fraction of fake samples that are nearer to the training set than the threshold.

    ``threshold`` is the ``percentile``-th percentile (0–100, numpy's linear interpolation)
    of the held-out samples' exact nearest-training distances; a fake sample is a copy when
    its nearest-training distance is strictly below it. Returns ``copy_rate`` (float),
    ``threshold`` (float), ``fake_nn_distances`` and ``holdout_nn_distances`` (float64
    arrays, one entry per fake / held-out sample), and ``fake_nn_indices`` (int64: the row
    of ``train_features`` nearest to each fake sample, to show what was copied).
    """
    if not 0.0 <= percentile <= 100.0:
        raise ValueError(f"percentile must be between 0 and 100, got {percentile}.")
    if hasattr(holdout_features, "__len__") and len(holdout_features) == 0:
        raise ValueError(
            "copy_check needs held-out real samples to set its threshold, but there are none; "
            "hold out some real images of this class from training."
        )
    train = as_feature_tensor(train_features, "train_features", min_rows=1)
    holdout = as_feature_tensor(holdout_features, "holdout_features", min_rows=1)
    fake = as_feature_tensor(fake_features, "fake_features", min_rows=1)
    check_same_dim(train, holdout, "train_features", "holdout_features")
    check_same_dim(train, fake, "train_features", "fake_features")

    holdout_nn, _ = nearest_neighbours(holdout, train, chunk_size=chunk_size)
    fake_nn, fake_nn_index = nearest_neighbours(fake, train, chunk_size=chunk_size)
    threshold = float(np.percentile(holdout_nn.numpy(), percentile))
    return {
        "copy_rate": float(np.mean(fake_nn.numpy() < threshold)),
        "threshold": threshold,
        "fake_nn_distances": fake_nn.numpy(),
        "holdout_nn_distances": holdout_nn.numpy(),
        "fake_nn_indices": fake_nn_index.numpy(),
    }
