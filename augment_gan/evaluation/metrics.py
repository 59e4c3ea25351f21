"""Evaluation metrics on feature matrices (N×D numpy arrays or torch tensors).

One import point for the metrics; each lives in its own module:

* :mod:`~augment_gan.evaluation.fid` — ``feature_statistics``, ``frechet_distance``, ``fid``;
* :mod:`~augment_gan.evaluation.kid` — ``kid``;
* :mod:`~augment_gan.evaluation.manifold` — ``precision_recall``, ``prdc``, ``manifold_metrics``;
* :mod:`~augment_gan.evaluation.memorisation` — ``copy_ratio_check``, ``copy_check``.

All of them validate their inputs (``ValueError`` with the offending argument's name), run
on the CPU with memory bounded by chunking, and return plain floats, tuples or dicts.
"""

from __future__ import annotations

from augment_gan.evaluation.fid import feature_statistics, fid, frechet_distance
from augment_gan.evaluation.kid import kid
from augment_gan.evaluation.manifold import (
    DENSITY_COVERAGE_K,
    PRECISION_RECALL_K,
    manifold_metrics,
    prdc,
    precision_recall,
)
from augment_gan.evaluation.memorisation import copy_check, copy_ratio_check

__all__ = [
    "DENSITY_COVERAGE_K",
    "PRECISION_RECALL_K",
    "copy_check",
    "copy_ratio_check",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "kid",
    "manifold_metrics",
    "prdc",
    "precision_recall",
]
