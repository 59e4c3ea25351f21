from __future__ import annotations

import numpy as np
import pytest
import torch

from augment_gan.data.split import holdout_count, holdout_split
from augment_gan.errors import ConfigError


@pytest.mark.parametrize(
    "n, fraction, min_train, expected",
    [
        (10, 0.2, 2, 2),
        (10, 0.25, 2, 3),  # 2.5 rounds half up
        (10, 0.15, 2, 2),  # 1.5 rounds half up
        (15, 0.1, 2, 3),  # 1.5 -> 2, but at least MIN_HOLDOUT (3) ...
        (11, 0.1, 2, 2),  # ... and at most a quarter of the class for it
        (4, 0.1, 2, 1),  # round(0.4) = 0, but at least 1 once n >= min_train + 2
        (4, 0.9, 2, 2),  # capped at n - min_train
        (3, 0.5, 2, 0),  # n < min_train + 2: nothing held out
        (1, 0.5, 2, 0),
        (5, 0.5, 3, 2),
        (5, 0.5, 4, 0),
        (100, 0.0, 2, 0),
        (100, 0.1, 0, 10),
    ],
)
def test_holdout_count_rule(n: int, fraction: float, min_train: int, expected: int) -> None:
    assert holdout_count(n, fraction, min_train) == expected


def test_split_per_class() -> None:
    labels = np.array([0] * 10 + [1] * 3 + [2] * 4 + [0] * 5)
    train, hold = holdout_split(labels, 0.2, seed=7)
    assert train.dtype == np.int64 and hold.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(hold) > 0)
    assert np.array_equal(np.sort(np.concatenate([train, hold])), np.arange(len(labels)))
    assert np.bincount(labels[hold], minlength=3).tolist() == [3, 0, 1]  # 15*0.2=3, 0, max(1,·)


def test_split_deterministic_and_seed_dependent() -> None:
    labels = np.repeat(np.arange(3), 40)
    a = holdout_split(labels, 0.25, seed=1)
    b = holdout_split(torch.from_numpy(labels), 0.25, seed=1)
    c = holdout_split(labels, 0.25, seed=2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert len(a[1]) == len(c[1]) == 30


def test_split_of_a_class_ignores_other_classes() -> None:
    labels = np.repeat(np.arange(2), 20)
    _, hold = holdout_split(labels, 0.3, seed=3)
    more = np.concatenate([labels, np.full(9, 2)])  # a new class appended
    _, hold_more = holdout_split(more, 0.3, seed=3)
    assert np.array_equal(hold_more[hold_more < 40], hold)


def test_split_zero_fraction_and_empty() -> None:
    train, hold = holdout_split(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.0, seed=0)
    assert train.tolist() == list(range(8)) and hold.tolist() == []
    train, hold = holdout_split(np.array([], dtype=np.int64), 0.5, seed=0)
    assert train.tolist() == [] and hold.tolist() == []


@pytest.mark.parametrize("fraction, seed", [(1.0, 0), (-0.1, 0), (0.2, -1)])
def test_split_bad_arguments(fraction: float, seed: int) -> None:
    with pytest.raises(ConfigError):
        holdout_split(np.array([0, 0, 0, 0]), fraction, seed)
