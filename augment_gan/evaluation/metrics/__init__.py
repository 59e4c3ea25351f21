"""Pure metrics on feature matrices (N×D numpy arrays or torch tensors), one concept per module.

One import point for the metrics; each lives in its own module:

* :mod:`~augment_gan.evaluation.metrics.fid` — ``feature_statistics``, ``frechet_distance``, ``fid``;
* :mod:`~augment_gan.evaluation.metrics.kid` — ``kid``;
* :mod:`~augment_gan.evaluation.metrics.manifold` — ``precision_recall``, ``prdc``, ``manifold_metrics``;
* :mod:`~augment_gan.evaluation.metrics.memorisation` — ``copy_ratio_check``, ``copy_check``;
* :mod:`~augment_gan.evaluation.metrics.support` — ``nearest_class_share``, ``spread_ratio`` (any class size);
* :mod:`~augment_gan.evaluation.metrics.inception_score` — ``inception_score`` (from logits);
* :mod:`~augment_gan.evaluation.metrics.distances` — the chunked k-NN distances under them.

All of them validate their inputs (``ValueError`` with the offending argument's name), run
on the CPU with memory bounded by chunking, and return plain floats, tuples or dicts. They
know nothing of runs, classes or the gate: what a run does with them (evaluate per class,
calibrate, gate, report, and the registry of gated metrics) lives beside this package, in
``augment_gan/evaluation/``.
"""

from __future__ import annotations

from augment_gan.evaluation.metrics.fid import feature_statistics, fid, frechet_distance
from augment_gan.evaluation.metrics.inception_score import inception_score
from augment_gan.evaluation.metrics.kid import kid
from augment_gan.evaluation.metrics.manifold import (
    DENSITY_COVERAGE_K,
    PRECISION_RECALL_K,
    manifold_metrics,
    prdc,
    precision_recall,
)
from augment_gan.evaluation.metrics.memorisation import copy_check, copy_ratio_check
from augment_gan.evaluation.metrics.support import nearest_class_share, spread_ratio

__all__ = [
    "DENSITY_COVERAGE_K",
    "PRECISION_RECALL_K",
    "copy_check",
    "copy_ratio_check",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "inception_score",
    "kid",
    "manifold_metrics",
    "nearest_class_share",
    "prdc",
    "precision_recall",
    "spread_ratio",
]
