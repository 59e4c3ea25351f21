"""Fréchet distance between Gaussian fits of two feature sets (FID, Heusel et al. 2017).

``d² = |mu1 - mu2|² + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^½)``, the same quantity as
``pytorch_fid.fid_score.calculate_frechet_distance``. The trace term is computed without
``scipy.linalg.sqrtm`` (its ``disp`` argument is gone in SciPy 1.18, and a general
non-symmetric square root is slow and can return complex noise): writing ``S1 = F Fᵀ``
(Cholesky, or ``V Λ^½`` when ``S1`` is singular), ``S1 S2`` is similar to the symmetric
positive semi-definite ``Fᵀ S2 F``, so ``Tr((S1 S2)^½)`` is the sum of the square roots of
that matrix's eigenvalues: one symmetric eigenvalue problem. Eigenvalues that are zero up
to rounding are set to zero, so singular covariances (fewer samples than dimensions) need
no ``eps``-on-the-diagonal retry.
"""

from __future__ import annotations

import numpy as np
import torch

from augment_gan.evaluation.metrics.features import Features, as_feature_tensor, check_same_dim

# Rows of centred features per covariance update; bounds the float64 copy to 16 MB at 2048-d.
_COVARIANCE_CHUNK = 1024


def feature_statistics(features: Features) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean (D,) and unbiased covariance (D×D) of ``features`` in float64.

    Matches ``np.mean(features, axis=0)`` and ``np.cov(features, rowvar=False)`` as
    pytorch-fid computes them; needs at least two rows.
    """
    x = as_feature_tensor(features, "features", min_rows=2)
    mu = x.mean(dim=0, dtype=torch.float64)
    sigma = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64)
    # Two passes (mean first, then centred products) in float64: the one-pass
    # E[xxᵀ] - μμᵀ formula loses most digits when the mean is large, as it is for
    # post-ReLU Inception features.
    for start in range(0, x.shape[0], _COVARIANCE_CHUNK):
        centred = x[start : start + _COVARIANCE_CHUNK].to(torch.float64) - mu
        sigma.addmm_(centred.t(), centred)
    sigma /= x.shape[0] - 1
    return mu.numpy(), sigma.numpy()


def _as_float64(value: np.ndarray | torch.Tensor, name: str, ndim: int) -> torch.Tensor:
    tensor = torch.as_tensor(value).detach().cpu().to(torch.float64)
    if tensor.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(tensor.shape)}.")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return tensor


def _square_root_factor(sigma: torch.Tensor) -> torch.Tensor:
    """Return ``F`` with ``sigma = F Fᵀ`` for a symmetric positive semi-definite ``sigma``.

    Cholesky when ``sigma`` is numerically full rank (three times faster than an
    eigendecomposition at 2048-d); otherwise ``V Λ^½`` from ``sigma = V Λ Vᵀ``, with the
    eigenvalues that are zero up to rounding set to exactly zero.
    """
    factor, info = torch.linalg.cholesky_ex(sigma)
    if int(info) == 0:
        smallest_pivot = factor.diagonal().min() ** 2
        if smallest_pivot > _rank_tolerance(sigma.diagonal().max(), sigma.shape[0]):
            return factor
    eigenvalues, eigenvectors = torch.linalg.eigh(sigma)
    return eigenvectors * _zero_rounding_noise(eigenvalues).sqrt()


def _rank_tolerance(largest: torch.Tensor, dim: int) -> torch.Tensor:
    """Eigenvalues (or squared pivots) below this are zero up to float64 rounding."""
    return dim * torch.finfo(torch.float64).eps * largest.abs()


def _zero_rounding_noise(eigenvalues: torch.Tensor) -> torch.Tensor:
    """Set eigenvalues that are zero to within the eigensolver's rounding to exactly zero.

    A singular covariance (fewer samples than dimensions) has eigenvalues that should be 0
    but come out as ±(D · eps · λ_max); their square roots (~1e-8 · √λ_max each) would add
    up to a visible bias in the trace, so they are removed rather than merely clipped at 0.
    """
    tolerance = _rank_tolerance(eigenvalues.abs().max(), eigenvalues.shape[0])
    return torch.where(eigenvalues > tolerance, eigenvalues, torch.zeros_like(eigenvalues))


def trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor) -> float:
    """Return ``Tr((S1 S2)^½)`` for symmetric positive semi-definite float64 ``S1``, ``S2``.

    With ``S1 = F Fᵀ``, ``S1 S2`` has the eigenvalues of the symmetric positive
    semi-definite ``Fᵀ S2 F``, so the trace is the sum of their square roots.
    """
    # Symmetrise first: covariances from float arithmetic are symmetric only to rounding,
    # and the symmetric solvers read one triangle.
    s1 = (sigma1 + sigma1.t()) / 2
    s2 = (sigma2 + sigma2.t()) / 2
    factor = _square_root_factor(s1)
    middle = factor.t() @ s2 @ factor
    middle = (middle + middle.t()) / 2
    return float(_zero_rounding_noise(torch.linalg.eigvalsh(middle)).sqrt().sum())


def frechet_distance(
    mu1: np.ndarray | torch.Tensor,
    sigma1: np.ndarray | torch.Tensor,
    mu2: np.ndarray | torch.Tensor,
    sigma2: np.ndarray | torch.Tensor,
) -> float:
    """Return the Fréchet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Computed in float64. For identical inputs the result is 0 up to rounding and may come
    out as a tiny negative number (it is not clipped, to stay comparable with pytorch-fid).
    """
    m1, m2 = _as_float64(mu1, "mu1", 1), _as_float64(mu2, "mu2", 1)
    s1, s2 = _as_float64(sigma1, "sigma1", 2), _as_float64(sigma2, "sigma2", 2)
    dim = m1.shape[0]
    if m2.shape[0] != dim or s1.shape != (dim, dim) or s2.shape != (dim, dim):
        raise ValueError(
            "mu1, mu2 must have shape (D,) and sigma1, sigma2 shape (D, D) for one D, got "
            f"{tuple(m1.shape)}, {tuple(m2.shape)}, {tuple(s1.shape)}, {tuple(s2.shape)}."
        )
    diff = m1 - m2
    mean_term = float(diff @ diff)
    return mean_term + float(s1.trace()) + float(s2.trace()) - 2.0 * trace_sqrt_product(s1, s2)


def fid(features_a: Features, features_b: Features) -> float:
    """Return the Fréchet distance between the Gaussian fits of two N×D feature sets.

    Each set needs at least two rows. With Inception pool3 features this is FID; it agrees
    with pytorch-fid's value for the same features to ~1e-9 relative (tested ≤ 1e-6).
    """
    a = as_feature_tensor(features_a, "features_a", min_rows=2)
    b = as_feature_tensor(features_b, "features_b", min_rows=2)
    check_same_dim(a, b, "features_a", "features_b")
    mu_a, sigma_a = feature_statistics(a)
    mu_b, sigma_b = feature_statistics(b)
    return frechet_distance(mu_a, sigma_a, mu_b, sigma_b)
