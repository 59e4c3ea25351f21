"""Evaluation: feature extractors and the metrics computed on their features.

``metrics`` (a sub-package of pure functions) holds FID, KID, precision/recall, density/coverage and the copy check, all on
N×D feature matrices; ``extractors`` turns uint8 images into such matrices (the built-in
``"inception"`` extractor lives in ``inception`` and is imported only when requested).

``measure`` measures a generator (a torch module, or its ONNX export) against real images
per class, without a run dir.

Names resolve lazily (:mod:`augment_gan.lazy`): the config dataclasses import no torch.
"""

from augment_gan.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "extractors": (
            "FeatureExtractor",
            "available_extractors",
            "extract_features",
            "get_extractor",
            "register_extractor",
        ),
        "measurement": ("measure",),
        "metrics": (
            "copy_check",
            "copy_ratio_check",
            "feature_statistics",
            "fid",
            "frechet_distance",
            "inception_score",
            "kid",
            "manifold_metrics",
            "prdc",
            "precision_recall",
        ),
    },
)
