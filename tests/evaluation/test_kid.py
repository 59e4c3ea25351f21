"""KID: the torch-fidelity estimator and subset sampling, and known answers."""

from __future__ import annotations

import numpy as np
import pytest

from augment_gan.evaluation.metrics import kid


def _reference_kid(a: np.ndarray, b: np.ndarray, subsets: int, size: int, seed: int) -> tuple[float, float]:
    """Direct numpy transcription of the definition: torch-fidelity's sampling, unbiased MMD²."""
    rng = np.random.RandomState(seed)
    gamma = 1.0 / a.shape[1]
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        k_xx, k_yy, k_xy = ((p @ q.T * gamma + 1.0) ** 3 for p, q in ((x, x), (y, y), (x, y)))
        m = size
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values.append(within - 2.0 * k_xy.sum() / m**2)
    return float(np.mean(values)), float(np.std(values))


def test_matches_reference_definition() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 32))
    b = rng.normal(0.2, 1.1, size=(250, 32))
    ours = kid(a, b, num_subsets=20, subset_size=100, seed=7)
    expected = _reference_kid(a, b, subsets=20, size=100, seed=7)
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_same_distribution_is_zero_within_noise_and_far_apart_is_large() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(600, 32)), rng.normal(size=(600, 32))
    same_mean, same_std = kid(a, b, num_subsets=50, subset_size=100)
    assert abs(same_mean) < 2 * same_std
    far_mean, far_std = kid(a, b + 100.0, num_subsets=50, subset_size=100)
    assert far_mean > 1000 * max(same_std, abs(same_mean)) and far_mean > 10 * far_std


def test_small_classes_use_the_smaller_set_size() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 8)), rng.normal(size=(7, 8))
    mean, std = kid(a, b, num_subsets=10)
    assert np.isfinite(mean) and np.isfinite(std)
    assert (mean, std) == pytest.approx(_reference_kid(a, b, subsets=10, size=5, seed=0), rel=1e-10)


def test_seed_makes_it_deterministic() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(60, 4))
    assert kid(a, b, subset_size=20, seed=1) == kid(a, b, subset_size=20, seed=1)
    assert kid(a, b, subset_size=20, seed=1) != kid(a, b, subset_size=20, seed=2)


def test_rejects_too_few_samples() -> None:
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match="at least 2"):
        kid(np.zeros((1, 3)), x)
    with pytest.raises(ValueError, match="same feature dimension"):
        kid(x, np.zeros((10, 4)))
