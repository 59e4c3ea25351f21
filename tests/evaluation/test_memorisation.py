"""copy_check: exact copies are flagged, fresh samples are not."""

from __future__ import annotations

import numpy as np
import pytest

from augment_gan.evaluation.metrics import copy_check


@pytest.fixture
def sets() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    # Non-centred, like post-ReLU features.
    train, holdout, fresh = (np.abs(rng.normal(size=(n, 32))).astype(np.float32) + 2.0 for n in (400, 300, 300))
    return train, holdout, fresh


def test_exact_copies_are_flagged(sets) -> None:
    train, holdout, _ = sets
    result = copy_check(train, holdout, train[::4].copy())
    assert result["copy_rate"] == 1.0
    assert result["fake_nn_distances"].dtype == np.float64
    assert np.array_equal(result["fake_nn_distances"], np.zeros(100))  # exactly, not ~1e-3
    assert result["threshold"] > 0.0


def test_fresh_samples_are_not_copies(sets) -> None:
    train, holdout, fresh = sets
    result = copy_check(train, holdout, fresh)
    assert result["copy_rate"] <= 0.05
    assert result["fake_nn_distances"].shape == (300,)
    assert result["holdout_nn_distances"].shape == (300,)
    assert result["threshold"] == pytest.approx(np.percentile(result["holdout_nn_distances"], 1.0))


def test_distances_are_exact_nearest_neighbours(sets) -> None:
    train, holdout, fresh = sets
    result = copy_check(train, holdout, fresh[:50], percentile=50.0)
    brute = np.sqrt(((fresh[:50, None, :].astype(np.float64) - train[None].astype(np.float64)) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(result["fake_nn_distances"], brute, rtol=1e-12)
    assert result["copy_rate"] == np.mean(brute < result["threshold"])


def test_near_copies_count_and_mixed_rate(sets) -> None:
    train, holdout, fresh = sets
    near = train[:30] + np.float32(1e-4)
    result = copy_check(train, holdout, np.vstack([near, fresh[:70]]))
    assert 0.30 <= result["copy_rate"] <= 0.35


def test_no_holdout_is_a_clear_error(sets) -> None:
    train, _, fresh = sets
    with pytest.raises(ValueError, match="held-out"):
        copy_check(train, np.empty((0, 32), dtype=np.float32), fresh)
    with pytest.raises(ValueError, match="percentile"):
        copy_check(train, train, fresh, percentile=101)
    with pytest.raises(ValueError, match="same feature dimension"):
        copy_check(train, train[:, :5], fresh)
