"""The consumer side, without torch: a model dir -> images.

- :mod:`~augment_gan.runtime.generator`: :class:`OnnxGenerator` (onnxruntime session, sha256-checked);
- :mod:`~augment_gan.runtime.providers`: CUDA when really usable, else CPU, quietly;
- :mod:`~augment_gan.runtime.latents`: the latent of sample *i* of class *c* (one definition);
- :mod:`~augment_gan.runtime.images`: uint8 arrays -> PIL images, PNG bytes and grids;
- :mod:`~augment_gan.runtime.augmenter`: :class:`Augmenter`, the public facade;
- :mod:`~augment_gan.runtime.datasets`: the torch Datasets (the one module here that imports
  torch, and only when it is imported).

Names resolve lazily, so ``from augment_gan.runtime import OnnxGenerator`` imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Augmenter": "augment_gan.runtime.augmenter",
    "OnnxGenerator": "augment_gan.runtime.generator",
    "UnknownClassError": "augment_gan.runtime.generator",
    "SyntheticDataset": "augment_gan.runtime.datasets",
    "BalancedDataset": "augment_gan.runtime.datasets",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
