"""Kernel Inception Distance (Bińkowski et al., "Demystifying MMD GANs", ICLR 2018).

The unbiased estimate of the squared MMD with the polynomial kernel
``k(x, y) = (gamma · x·y + coef0) ** degree`` (``gamma`` defaults to 1/D), averaged over
random subsets — the estimator and subset sampling of torch-fidelity's ``kid``: subsets are
drawn with ``numpy.random.RandomState(seed).choice(n, m, replace=False)``, first from ``a``
then from ``b``, so the same seed draws the same subsets as torch-fidelity's ``rng_seed``.
"""

from __future__ import annotations

import numpy as np
import torch

from augment_gan.evaluation.metrics.features import Features, as_feature_tensor, check_same_dim


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor, *, degree: int, gamma: float, coef0: float) -> torch.Tensor:
    """Return the float64 kernel matrix ``(gamma · x yᵀ + coef0) ** degree``."""
    return (x @ y.t()).mul_(gamma).add_(coef0).pow_(degree)


def mmd2_unbiased(k_xx: torch.Tensor, k_xy: torch.Tensor, k_yy: torch.Tensor) -> float:
    """Return the unbiased MMD² estimate from the three m×m kernel matrices.

    ``(Σ_{i≠j} k_xx + Σ_{i≠j} k_yy) / (m(m-1)) - 2 Σ k_xy / m²`` — the ``"unbiased"``
    estimator of torch-fidelity (and of Bińkowski et al.'s reference code).
    """
    m = k_xx.shape[0]
    off_diagonal = (k_xx.sum() - k_xx.diagonal().sum()) + (k_yy.sum() - k_yy.diagonal().sum())
    return float(off_diagonal / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def kid(
    features_a: Features,
    features_b: Features,
    *,
    num_subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 0,
) -> tuple[float, float]:
    """Return the mean and standard deviation of the KID over ``num_subsets`` random subsets.

    Each subset takes ``min(subset_size, len(a), len(b))`` rows without replacement from
    each set, so small classes work; each set needs at least two rows (the unbiased
    estimator divides by ``m(m-1)``). The standard deviation is the population one
    (``np.std``), as torch-fidelity reports it. Kernels are computed in float64
    (torch-fidelity uses the features' float32), and ``seed`` defaults to 0 (torch-fidelity's
    ``rng_seed`` to 2020).
    """
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be at least 1, got {num_subsets}.")
    if subset_size < 2:
        raise ValueError(f"subset_size must be at least 2, got {subset_size}.")
    a = as_feature_tensor(features_a, "features_a", min_rows=2).to(torch.float64)
    b = as_feature_tensor(features_b, "features_b", min_rows=2).to(torch.float64)
    check_same_dim(a, b, "features_a", "features_b")
    m = min(subset_size, a.shape[0], b.shape[0])
    kernel_gamma = 1.0 / a.shape[1] if gamma is None else float(gamma)

    kernel = {"degree": degree, "gamma": kernel_gamma, "coef0": coef0}
    rng = np.random.RandomState(seed)
    estimates = np.empty(num_subsets, dtype=np.float64)
    for i in range(num_subsets):
        x = a[torch.from_numpy(rng.choice(a.shape[0], m, replace=False))]
        y = b[torch.from_numpy(rng.choice(b.shape[0], m, replace=False))]
        estimates[i] = mmd2_unbiased(
            polynomial_kernel(x, x, **kernel),
            polynomial_kernel(x, y, **kernel),
            polynomial_kernel(y, y, **kernel),
        )
    return float(estimates.mean()), float(estimates.std())
