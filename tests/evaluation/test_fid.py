"""FID: parity with pytorch-fid's calculate_frechet_distance, and known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_fid.fid_score import calculate_frechet_distance

from augment_gan.evaluation.metrics import feature_statistics, fid, frechet_distance

# pytorch-fid 0.3.0 calls scipy.linalg.sqrtm(..., disp=False), deprecated in SciPy 1.16.
pytestmark = pytest.mark.filterwarnings("ignore:The `disp` argument:DeprecationWarning")


def _pytorch_fid_distance(*stats: np.ndarray) -> float:
    try:
        return float(calculate_frechet_distance(*stats))
    except TypeError as error:  # SciPy ≥ 1.18 removed sqrtm's `disp`
        pytest.skip(f"pytorch-fid cannot run with this SciPy: {error}")


def _pytorch_fid(a: np.ndarray, b: np.ndarray) -> float:
    """pytorch-fid's FID of two feature arrays, statistics computed as its own code does."""
    return _pytorch_fid_distance(
        np.mean(a, axis=0), np.cov(a, rowvar=False), np.mean(b, axis=0), np.cov(b, rowvar=False)
    )


def test_statistics_match_numpy() -> None:
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(300, 20))
    mu, sigma = feature_statistics(x)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(mu, np.mean(x, axis=0), rtol=1e-13)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), rtol=1e-11, atol=1e-13)
    # float32 tensors go through the same float64 path.
    mu32, sigma32 = feature_statistics(torch.from_numpy(x.astype(np.float32)))
    np.testing.assert_allclose(sigma32, np.cov(x.astype(np.float32), rowvar=False), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("n_a", "n_b", "dim"),
    [(500, 400, 64), (40, 30, 64), (20, 200, 64)],  # the last two: singular covariances (N < D)
)
def test_matches_pytorch_fid(n_a: int, n_b: int, dim: int) -> None:
    rng = np.random.default_rng(n_a + n_b)
    # Correlated, shifted, non-centred features, like real activations.
    mixing = rng.normal(size=(dim, dim)) / dim**0.5
    a = rng.normal(size=(n_a, dim)) @ mixing + 1.0
    b = rng.normal(size=(n_b, dim)) @ (mixing * 1.2) + 1.3
    ours, theirs = fid(a, b), _pytorch_fid(a, b)
    print(f"FID {n_a}x{dim} vs {n_b}x{dim}: relative difference {abs(ours - theirs) / theirs:.2e}")
    assert abs(ours - theirs) <= 1e-6 * abs(theirs)
    # frechet_distance on pytorch-fid's own statistics gives the same number.
    stats = (np.mean(a, axis=0), np.cov(a, rowvar=False), np.mean(b, axis=0), np.cov(b, rowvar=False))
    assert abs(frechet_distance(*stats) - theirs) <= 1e-6 * abs(theirs)


def test_identical_sets_give_zero() -> None:
    rng = np.random.default_rng(1)
    for n in (1000, 30):  # full-rank and singular covariance
        x = rng.normal(5.0, 1.0, size=(n, 64)).astype(np.float32)
        _, sigma = feature_statistics(x)
        assert abs(fid(x, x.copy())) < 1e-6 * 2 * np.trace(sigma)


def test_known_value_for_shifted_isotropic_gaussians() -> None:
    # Same covariance, means 3 apart along every axis: FID = |Δμ|² = 9 D exactly.
    mu = np.zeros(8)
    sigma = np.diag(np.arange(1.0, 9.0))
    assert frechet_distance(mu, sigma, mu + 3.0, sigma) == pytest.approx(9.0 * 8, rel=1e-12)
    # Different scales, same mean: Σ (√λ1 - √λ2)².
    expected = float(np.sum((np.sqrt(np.arange(1.0, 9.0)) - np.sqrt(4 * np.arange(1.0, 9.0))) ** 2))
    assert frechet_distance(mu, sigma, mu, 4 * sigma) == pytest.approx(expected, rel=1e-12)


def test_shape_errors_are_clear() -> None:
    x = np.zeros((10, 4))
    with pytest.raises(ValueError, match="same feature dimension"):
        fid(x, np.zeros((10, 5)))
    with pytest.raises(ValueError, match="at least 2"):
        fid(x, np.zeros((1, 4)))
    with pytest.raises(ValueError, match="2-D"):
        fid(np.zeros(10), x)
    with pytest.raises(ValueError, match="NaN"):
        fid(np.full((10, 4), np.nan), x)
    with pytest.raises(ValueError, match="shape"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))


def test_singular_covariance_matches_exact_gram_formula() -> None:
    # With S1 = AᵀA/(n-1) of rank < D, Tr((S1 S2)^½) = Σ √eig(A S2 Aᵀ/(n-1)), a small
    # full-information problem with no near-zero square roots: an accurate reference.
    rng = np.random.default_rng(7)
    for n_a, n_b in ((10, 200), (25, 20), (40, 30)):
        a, b = rng.normal(size=(n_a, 64)), rng.normal(size=(n_b, 64)) + 0.1
        centred = a - a.mean(axis=0)
        s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        gram = np.linalg.eigvalsh(centred @ s_b @ centred.T / (n_a - 1))
        diff = a.mean(axis=0) - b.mean(axis=0)
        reference = diff @ diff + np.trace(s_a) + np.trace(s_b) - 2 * np.sqrt(np.clip(gram, 0, None)).sum()
        assert fid(a, b) == pytest.approx(reference, rel=1e-8)


def test_cholesky_and_eigendecomposition_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(300, 32)), rng.normal(size=(200, 32)) * 1.5
    fast = fid(a, b)
    # Make Cholesky "fail" so the eigendecomposition factor is used instead.
    monkeypatch.setattr(torch.linalg, "cholesky_ex", lambda s: (s, torch.tensor(1)))
    assert fid(a, b) == pytest.approx(fast, rel=1e-12)
