"""Evaluation: feature extractors and the metrics computed on their features.

``metrics`` holds FID, KID, precision/recall, density/coverage and the copy check, all on
N×D feature matrices; ``extractors`` turns uint8 images into such matrices (the built-in
``"inception"`` extractor lives in ``inception`` and is imported only when requested).
"""

from augment_gan.evaluation.extractors import (
    FeatureExtractor,
    available_extractors,
    extract_features,
    get_extractor,
    register_extractor,
)
from augment_gan.evaluation.metrics import (
    copy_check,
    feature_statistics,
    fid,
    frechet_distance,
    kid,
    manifold_metrics,
    prdc,
    precision_recall,
)

__all__ = [
    "FeatureExtractor",
    "available_extractors",
    "copy_check",
    "extract_features",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "get_extractor",
    "kid",
    "manifold_metrics",
    "prdc",
    "precision_recall",
    "register_extractor",
]
