"""augment-gan: class-conditional GAN augmentation for imbalanced image folders.

The public Python API (imported lazily, so ``import augment_gan`` stays cheap and the
runtime never imports torch)::

    from augment_gan import Augmenter, BalancedDataset, SyntheticDataset

    aug = Augmenter.load("models/digits/v1")          # or a model name under models/
    images = aug.generate("7", 16, seed=0)            # (16, H, W, C) uint8 numpy array

``augment_gan.Generator`` is the onnxruntime generator behind ``Augmenter`` (not the torch
module used for training, which is ``augment_gan.nets.Generator``).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Augmenter": "augment_gan.export.augmenter",
    "Generator": "augment_gan.export.runtime",
    "SyntheticDataset": "augment_gan.data.synthetic",
    "BalancedDataset": "augment_gan.data.synthetic",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
