"""Memorisation checks: are synthetic samples copies of training images?

:func:`copy_ratio_check` (what the gate uses) is per sample: a sample is a copy of its
nearest training image when it is closer to it than that image's own nearest real
neighbour is, by a ratio. It needs no held-out images and reads the same at any class size.

:func:`copy_check` is the set-level test: a synthetic sample is called a copy when it is closer to its nearest training image than
almost every *held-out* real image is to its nearest training image. Held-out images come
from the same distribution as the training set but were never trained on, so their
nearest-training distances show how close "new but similar" gets; the ``percentile``-th
percentile of those distances is the threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augment_gan.evaluation.metrics.distances import DEFAULT_CHUNK_SIZE, knn_radii, nearest_neighbours
from augment_gan.evaluation.metrics.features import Features, as_feature_tensor, check_same_dim

COPY_RATIO = 0.5


def copy_ratio_check(
    train_features: Features,
    fake_features: Features,
    *,
    ratio: float = COPY_RATIO,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, Any]:
    """The nearest-neighbour ratio test, per sample.

    For each fake sample, with j its nearest training image: ``d(fake, j) / d(j, j's nearest
    other training image)``. Below ``ratio`` the sample is nearer to j than any real image
    of the class comes: a copy. Returns ``copy_rate`` (float), ``ratios`` (float64, one per
    fake sample) and ``fake_nn_indices`` (int64: j, to show what was copied). Needs two
    training images (j's own neighbour).
    """
    if not ratio > 0:
        raise ValueError(f"ratio must be positive, got {ratio}.")
    train = as_feature_tensor(train_features, "train_features", min_rows=2)
    fake = as_feature_tensor(fake_features, "fake_features", min_rows=1)
    check_same_dim(train, fake, "train_features", "fake_features")
    own = knn_radii(train, 1, chunk_size=chunk_size).numpy()
    nn, index = nearest_neighbours(fake, train, chunk_size=chunk_size)
    nn, index = nn.numpy(), index.numpy()
    scale = own[index]
    with np.errstate(divide="ignore", invalid="ignore"):  # a duplicated training image has scale 0
        ratios = np.where(scale > 0, nn / np.where(scale > 0, scale, 1.0), np.where(nn > 0, np.inf, 0.0))
    return {"copy_rate": float(np.mean(ratios < ratio)), "ratios": ratios, "fake_nn_indices": index}


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
