"""augment-gan: class-conditional GAN augmentation for imbalanced image folders.

The public Python API (imported lazily, so ``import augment_gan`` stays cheap and the
runtime never imports torch)::

    from augment_gan import Augmenter, BalancedDataset, SyntheticDataset

    aug = Augmenter.load("models/digits/v1")          # or a model name under models/
    images = aug.generate("7", 16, seed=0)            # (16, H, W, C) uint8 numpy array

``augment_gan.OnnxGenerator`` is the onnxruntime generator behind ``Augmenter``; the torch
module used for training is ``augment_gan.nets.Generator``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Augmenter": "augment_gan.runtime.augmenter",
    "OnnxGenerator": "augment_gan.runtime.generator",
    "SyntheticDataset": "augment_gan.runtime.datasets",
    "BalancedDataset": "augment_gan.runtime.balanced",
    "synthetic_weighted_loss": "augment_gan.runtime.balanced",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name == "Generator":  # the name before 0.2; two classes shared it
        import warnings

        warnings.warn("augment_gan.Generator is now augment_gan.OnnxGenerator.", DeprecationWarning, stacklevel=2)
        name = "OnnxGenerator"
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
