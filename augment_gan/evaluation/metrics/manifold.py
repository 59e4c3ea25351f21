"""k-NN manifold metrics: improved precision/recall and density/coverage.

* Precision / recall: Kynkäänniemi et al., "Improved Precision and Recall Metric for
  Assessing Generative Models", NeurIPS 2019 (k = 3 recommended).
* Density / coverage: Naeem et al., "Reliable Fidelity and Diversity Metrics for
  Generative Models", ICML 2020 (k = 5 recommended).

Definitions are those of the ``prdc`` package (``compute_prdc``). Each real (fake) sample
has a ball whose radius is the distance to its k-th nearest neighbour among the real (fake)
samples, not counting itself; a sample is inside a ball when ``distance < radius``
(strict, as in ``prdc``):

* precision = fraction of fake samples inside at least one real ball;
* recall    = fraction of real samples inside at least one fake ball;
* density   = (1/k) · mean over fake samples of the number of real balls containing it;
* coverage  = fraction of real samples whose ball contains at least one fake sample.

Tie rule, and where this differs from ``prdc``: the rule is prdc's strict
``distance < radius``, so a point exactly on a ball's boundary is outside it — including a
ball of radius 0, which happens when a sample has k exact duplicates, and the k-th
neighbour itself when ``fake`` contains copies of ``real`` samples. (Kynkäänniemi et al.'s
original implementation uses ``<=``; results differ from it only on such exact ties.) The
difference from ``prdc`` is in how exactly the rule is applied: ``prdc`` compares
distances from scikit-learn's ``|x|² + |y|² - 2x·y`` formula — rounded to float32 when the
features are float32 — so a distance equal to a radius, or within that rounding (~1e-7
relative) of it, can land on either side; a duplicate's radius, for instance, comes out as
a rounding residue instead of 0, and its copy counts as inside. Here every decision that
close to a boundary is redone on exactly recomputed distances (see
:mod:`augment_gan.evaluation.metrics.distances`), so ties always follow the rule. Away from ties
the two agree exactly (tested on random data, with and without duplicates).
"""

from __future__ import annotations

import torch

from augment_gan.evaluation.metrics.distances import (
    DEFAULT_CHUNK_SIZE,
    knn_radii,
    kth_neighbour_distances,
    squared_distance_blocks,
    strictly_within,
)
from augment_gan.evaluation.metrics.features import Features, as_feature_tensor, check_same_dim

#: k recommended by Kynkäänniemi et al. for precision/recall.
PRECISION_RECALL_K = 3
#: k recommended by Naeem et al. for density/coverage.
DENSITY_COVERAGE_K = 5


def _check_k(name: str, k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{name} must be a positive integer, got {k!r}.")


def manifold_metrics(
    real_features: Features,
    fake_features: Features,
    *,
    pr_k: int = PRECISION_RECALL_K,
    dc_k: int = DENSITY_COVERAGE_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, float]:
    """Return precision and recall (k = ``pr_k``) and density and coverage (k = ``dc_k``).

    One pass over the real×real, fake×fake and real×fake distances serves all four, so this
    is the cheap way to get the recommended setting (precision/recall with k = 3,
    density/coverage with k = 5). Needs more than ``max(pr_k, dc_k)`` real samples and more
    than ``pr_k`` fake samples. Returns ``{"precision", "recall", "density", "coverage"}``.
    """
    _check_k("pr_k", pr_k)
    _check_k("dc_k", dc_k)
    real = as_feature_tensor(real_features, "real_features", min_rows=max(pr_k, dc_k) + 1)
    fake = as_feature_tensor(fake_features, "fake_features", min_rows=pr_k + 1)
    check_same_dim(real, fake, "real_features", "fake_features")

    ks = (pr_k,) if pr_k == dc_k else (pr_k, dc_k)
    real_radii, _ = kth_neighbour_distances(real, None, ks=ks, chunk_size=chunk_size)
    real_radii_pr, real_radii_dc = real_radii[:, 0].contiguous(), real_radii[:, -1].contiguous()
    fake_radii_pr = knn_radii(fake, pr_k, chunk_size=chunk_size)

    fake_in_some_real_ball = torch.zeros(fake.shape[0], dtype=torch.bool)
    real_balls_per_fake = torch.zeros(fake.shape[0], dtype=torch.int64)
    real_in_some_fake_ball = torch.zeros(real.shape[0], dtype=torch.bool)
    real_ball_covered = torch.zeros(real.shape[0], dtype=torch.bool)
    for block in squared_distance_blocks(real, fake, chunk_size=chunk_size):
        rows = slice(block.start, block.stop)
        # Rows are real samples, columns fake samples.
        in_real_ball_dc = strictly_within(block, real, fake, real_radii_dc, radius_of_rows=True)
        in_real_ball_pr = (
            in_real_ball_dc if pr_k == dc_k else strictly_within(block, real, fake, real_radii_pr, radius_of_rows=True)
        )
        in_fake_ball = strictly_within(block, real, fake, fake_radii_pr, radius_of_rows=False)
        fake_in_some_real_ball |= in_real_ball_pr.any(dim=0)
        real_balls_per_fake += in_real_ball_dc.sum(dim=0)
        real_in_some_fake_ball[rows] = in_fake_ball.any(dim=1)
        # "Nearest fake sample is inside the ball" is the same as "some fake sample is".
        real_ball_covered[rows] = in_real_ball_dc.any(dim=1)

    # Means taken with numpy in prdc's order of operations, so equal counts give
    # bit-identical floats.
    return {
        "precision": float(fake_in_some_real_ball.numpy().mean()),
        "recall": float(real_in_some_fake_ball.numpy().mean()),
        "density": float((1.0 / float(dc_k)) * real_balls_per_fake.numpy().mean()),
        "coverage": float(real_ball_covered.numpy().mean()),
    }


def prdc(
    real_features: Features,
    fake_features: Features,
    *,
    nearest_k: int = DENSITY_COVERAGE_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, float]:
    """Return precision, recall, density and coverage all with k = ``nearest_k``.

    Same definitions and output as ``prdc.compute_prdc(real, fake, nearest_k)`` (see the
    module docstring for the one documented difference on exact boundary ties).
    """
    _check_k("nearest_k", nearest_k)
    return manifold_metrics(real_features, fake_features, pr_k=nearest_k, dc_k=nearest_k, chunk_size=chunk_size)


def precision_recall(
    real_features: Features,
    fake_features: Features,
    *,
    k: int = PRECISION_RECALL_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> dict[str, float]:
    """Return improved precision and recall (Kynkäänniemi et al. 2019) with k = ``k``."""
    _check_k("k", k)
    scores = manifold_metrics(real_features, fake_features, pr_k=k, dc_k=k, chunk_size=chunk_size)
    return {"precision": scores["precision"], "recall": scores["recall"]}
