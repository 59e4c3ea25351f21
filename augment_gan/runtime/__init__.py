"""The consumer side, without torch: a model dir -> images.

- :mod:`~augment_gan.runtime.generator`: :class:`OnnxGenerator` (onnxruntime session, sha256-checked);
- :mod:`~augment_gan.runtime.providers`: CUDA when really usable, else CPU, quietly;
- :mod:`~augment_gan.runtime.latents`: the latent of sample *i* of class *c* (one definition);
- :mod:`~augment_gan.runtime.images`: uint8 arrays -> PIL images, PNG bytes and grids;
- :mod:`~augment_gan.runtime.plan`: which classes get how many synthetic samples, and why a
  class gets none (every consumer asks it); :mod:`~augment_gan.runtime.target`: ``--target``;
- :mod:`~augment_gan.runtime.augmenter`: :class:`Augmenter`, the public facade;
- :mod:`~augment_gan.runtime.datasets`, :mod:`~augment_gan.runtime.balanced`: the torch
  Datasets (the only modules here that import torch, and only when they are imported).

Names resolve lazily, so ``from augment_gan.runtime import OnnxGenerator`` imports no torch.
"""

from augment_gan.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "augmenter": ("Augmenter",),
        "generator": ("OnnxGenerator",),
        "plan": ("UnknownClassError", "plan_classes"),
        "datasets": ("SyntheticDataset",),
        "balanced": ("BalancedDataset", "synthetic_weighted_loss"),
    },
)
