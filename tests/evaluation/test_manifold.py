"""Precision/recall and density/coverage: parity with the prdc package, ties, known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from prdc import compute_prdc

from augment_gan.evaluation.metrics import manifold_metrics, prdc, precision_recall
from augment_gan.evaluation.metrics.distances import knn_radii

KEYS = ("precision", "recall", "density", "coverage")


def _theirs(quiet, real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    return {key: float(value) for key, value in quiet(compute_prdc, real, fake, nearest_k=k).items()}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_prdc_exactly_without_ties(quiet, seed: int, dtype: type) -> None:
    rng = np.random.default_rng(seed)
    n_real, n_fake, dim = rng.integers(200, 501), rng.integers(200, 501), int(rng.choice([16, 32, 64]))
    real = rng.normal(size=(n_real, dim)).astype(dtype)
    fake = rng.normal(0.3, 1.2, size=(n_fake, dim)).astype(dtype)
    for k in (3, 5):
        # Small chunks exercise the block boundaries.
        assert prdc(real, fake, nearest_k=k, chunk_size=97) == _theirs(quiet, real, fake, k)


def test_matches_prdc_with_duplicates_off_the_boundary(quiet) -> None:
    # Exact duplicates (distance 0) inside the sets and shared between them, but no point
    # with k duplicates, so no radius is 0 and no distance equals a radius.
    rng = np.random.default_rng(10)
    real = rng.normal(size=(300, 32))
    real[150:200] = real[:50]  # 50 duplicated pairs among the real samples
    fake = rng.normal(0.1, 1.0, size=(250, 32))
    fake[:40] = real[:40]  # fakes that copy real samples (and each other's duplicates)
    fake[200:] = fake[150:200]
    for k in (3, 5):
        assert prdc(real, fake, nearest_k=k) == _theirs(quiet, real, fake, k)


def test_boundary_ties_follow_the_strict_rule(quiet) -> None:
    # Points on a 1-D grid: every distance is an integer, so many equal a radius exactly.
    real = np.arange(10, dtype=np.float64).reshape(-1, 1)  # 0..9
    fake = np.array([[0.0], [2.0], [4.5], [20.0]])
    # Real radii with k=1: 1 for every point. Fake radii with k=1: [2, 2, 2.5, 15.5].
    scores = prdc(real, fake, nearest_k=1)
    # precision: fakes 0, 2 sit on a real point (distance 0 < 1); 4.5 is 0.5 from 4 and 5;
    # 20 is 11 from 9 (not < 1). 3 of 4.
    assert scores["precision"] == 0.75
    # recall: a real point is inside a fake ball if distance < fake radius.
    # fake 0 (r=2): reals 0, 1 (2 is on the boundary); fake 2 (r=2): 1, 2, 3;
    # fake 4.5 (r=2.5): 3, 4, 5, 6 (2.0 → 4.5 is exactly 2.5: out); fake 20 (r=15.5): 5..9
    # (4 is exactly 16 > 15.5). Union = 0..9 → 10 of 10.
    assert scores["recall"] == 1.0
    # density: real balls (r=1) containing each fake: 0 → {0}; 2 → {2}; 4.5 → {4, 5}; 20 → {}.
    assert scores["density"] == pytest.approx(4 / 4)
    # coverage: real balls containing a fake: 0, 2, 4, 5 → 4 of 10.
    assert scores["coverage"] == 0.4
    # Small integers make prdc's own distances exact too, so it agrees tie for tie.
    assert scores == _theirs(quiet, real, fake, 1)


def test_zero_radius_when_k_duplicates() -> None:
    # Three copies of the same point: with k=2 their radius is exactly 0, so their balls
    # contain nothing, not even an exact copy (0 < 0 is false).
    base = np.random.default_rng(0).normal(size=(1, 8)) * 10
    others = np.random.default_rng(1).normal(size=(20, 8)) * 10
    real = np.vstack([base, base, base, others])
    radii = knn_radii(torch.from_numpy(real), 2)
    assert torch.equal(radii[:3], torch.zeros(3, dtype=torch.float64))
    assert (radii[3:] > 0).all()
    fake_copy = base.copy()
    scores = manifold_metrics(real, np.vstack([fake_copy, others[:3] + 100.0]), pr_k=2, dc_k=2)
    assert scores["precision"] == 0.0 and scores["density"] == 0.0 and scores["coverage"] == 0.0
    # (prdc computes these duplicates' radius as a rounding residue ~1e-7 instead of 0 and
    # counts the copy as inside: the documented difference.)


def test_identical_sets_score_one() -> None:
    x = np.random.default_rng(2).normal(size=(400, 32)).astype(np.float32)
    # A copy, not the same object, so nothing short-cuts on identity.
    assert manifold_metrics(x, x.copy()) == dict.fromkeys(KEYS, 1.0)
    assert prdc(x, x.copy(), nearest_k=5) == dict.fromkeys(KEYS, 1.0)


def test_far_apart_sets_score_zero() -> None:
    rng = np.random.default_rng(3)
    real = rng.normal(size=(300, 16))
    fake = rng.normal(size=(300, 16)) + 100.0
    assert manifold_metrics(real, fake) == dict.fromkeys(KEYS, 0.0)


def test_collapsed_generator_has_precision_but_no_recall_or_coverage() -> None:
    rng = np.random.default_rng(4)
    real = rng.normal(size=(500, 16))
    fake = real[0] + 1e-3 * rng.normal(size=(300, 16))  # all samples on one real point
    scores = manifold_metrics(real, fake)
    assert scores["precision"] == 1.0
    assert scores["recall"] <= 0.01
    assert scores["coverage"] <= 0.02
    assert scores["density"] > 0.0


def test_precision_recall_uses_k() -> None:
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(200, 8)), rng.normal(0.5, 1.0, size=(150, 8))
    three = precision_recall(real, fake)
    full = manifold_metrics(real, fake, pr_k=3, dc_k=5)
    assert three == {"precision": full["precision"], "recall": full["recall"]}
    assert full["density"] == prdc(real, fake, nearest_k=5)["density"]
    assert precision_recall(real, fake, k=10)["recall"] >= three["recall"]  # bigger balls


def test_accepts_tensors_and_chunking_does_not_change_results() -> None:
    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(230, 12)), rng.normal(size=(170, 12))
    expected = manifold_metrics(real, fake)
    assert manifold_metrics(torch.from_numpy(real), torch.from_numpy(fake), chunk_size=1) == expected
    assert manifold_metrics(real, fake, chunk_size=10_000) == expected


def test_input_errors_are_clear() -> None:
    x = np.zeros((20, 4))
    with pytest.raises(ValueError, match="real_features has 5 rows but this metric needs at least 6"):
        prdc(np.random.rand(5, 4), x, nearest_k=5)
    with pytest.raises(ValueError, match="same feature dimension"):
        prdc(x, np.zeros((20, 3)))
    with pytest.raises(ValueError, match="positive integer"):
        precision_recall(x, x, k=0)
    with pytest.raises(ValueError, match="2-D"):
        prdc(np.zeros((2, 3, 4)), x)
