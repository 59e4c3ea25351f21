"""Per-sample tests that read the same at any class size: is a sample of the class, and are
the samples spread as the class's real images are?

Coverage, recall and precision need a k-NN radius inside the class's reference set, so more
than k reference images; a class of 5 images has 3 once the judge and the hold-out took
theirs. These two need only the class's own real images (any number >= 1, >= 2 for the
spread) and, for the class test, the other classes' real images:

* :func:`nearest_class_share`: the share of samples whose nearest real image is one of the
  class's own rather than another class's (1-NN classification against every real image).
  Samples of another class score ~0; real unseen images of the class score what the
  features allow at this size, which the gate's real-vs-real band measures.
* :func:`spread_ratio`: the samples' mean pairwise distance over the class's real images'
  (the "intra-class diversity" of few-shot GAN work, in feature space). One image repeated
  scores 0; real images of the class ~1.
"""

from __future__ import annotations

import torch

from augment_gan.evaluation.metrics.distances import DEFAULT_CHUNK_SIZE, nearest_neighbours
from augment_gan.evaluation.metrics.features import Features, as_feature_tensor, check_same_dim

#: Rows a spread is measured on (evenly strided), so its pairwise matrix stays small.
SPREAD_MAX_ROWS = 1000
#: Samples each test reads (the first ones): a share of 200 is within +-0.07 (95 %), and the
#: gate's bands compute both tests ~1,000 times per evaluation.
MAX_SAMPLES = 200


def nearest_class_share(
    own: Features, others: Features, fake: Features, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> float:
    """The share of ``fake`` rows (the first ``MAX_SAMPLES``) strictly nearer to some ``own``
    row (the class's real images) than to every ``others`` row (the other classes')."""
    own_t = as_feature_tensor(own, "own", min_rows=1)
    others_t = as_feature_tensor(others, "others", min_rows=1)
    fake_t = as_feature_tensor(fake, "fake", min_rows=1)[:MAX_SAMPLES]
    check_same_dim(own_t, fake_t, "own", "fake")
    check_same_dim(others_t, fake_t, "others", "fake")
    d_own, _ = nearest_neighbours(fake_t, own_t, chunk_size=chunk_size)
    d_other, _ = nearest_neighbours(fake_t, others_t, chunk_size=chunk_size)
    return float((d_own < d_other).double().mean())


def mean_pairwise_distance(features: Features, name: str = "features", max_rows: int = SPREAD_MAX_ROWS) -> float:
    """The mean euclidean distance over distinct pairs of rows (at most ``max_rows`` rows,
    evenly strided)."""
    x = as_feature_tensor(features, name, min_rows=2)
    x = x[:: -(-len(x) // max_rows)]
    d = torch.cdist(x, x)
    n = len(x)
    return float(d.sum() / (n * (n - 1)))


def spread_ratio(own: Features, fake: Features) -> float:
    """The samples' mean pairwise distance over the class's real images' (0: all one point;
    ~1: as spread as the real images; at most ``MAX_SAMPLES`` samples, evenly strided).
    Needs two rows of each."""
    real = mean_pairwise_distance(own, "own")
    if real == 0:
        raise ValueError("own: every real image has the same features; the spread has no scale.")
    return mean_pairwise_distance(fake, "fake", MAX_SAMPLES) / real
