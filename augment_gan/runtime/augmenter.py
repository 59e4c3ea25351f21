"""``Augmenter``: the public Python entry point to a promoted model.

A thin facade over :class:`~augment_gan.runtime.generator.Generator` (onnxruntime, no torch)
and the torch Datasets in :mod:`augment_gan.runtime.datasets` (imported only when asked for).

Example (runnable against any model dir)::

    from augment_gan import Augmenter
    aug = Augmenter.load("digits")                 # models/digits/PROMOTED, sha256 verified
    aug.classes                                    # ['0', '1', ..., '9']
    images = aug.generate("7", 8, seed=0)          # uint8 (8, 32, 32, 1)
    aug.generate_pil("7", 2)[0].save("seven.png")
    train = aug.balanced(ImageFolder("data/train", transform=T.ToTensor()))
    loader = DataLoader(train, batch_size=64, sampler=train.sampler(), num_workers=2)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from augment_gan.runtime.generator import OnnxGenerator

if TYPE_CHECKING:
    from PIL import Image

    from augment_gan.runtime.balanced import BalancedDataset
    from augment_gan.runtime.datasets import SyntheticDataset


class Augmenter:
    """Generate class-conditional images from a model dir, or build training Datasets from it."""

    def __init__(self, generator: OnnxGenerator) -> None:
        self.generator = generator

    @classmethod
    def load(cls, model: str | Path, **options: Any) -> Augmenter:
        """Load a model dir path, or a model name (its PROMOTED version under ``models_dir``).

        ``options`` are :meth:`OnnxGenerator.load`'s: ``models_dir``, ``providers`` ("auto"
        uses CUDA when a GPU is really usable, else CPU, silently), ``intra_op_threads``,
        ``inter_op_threads``, ``allow_ungated``. Raises ``ModelError`` if generator.onnx does
        not match the card's sha256.
        """
        return cls(OnnxGenerator.load(model, **options))

    @property
    def classes(self) -> list[str]:
        """Class names; a class's index in this list is its label."""
        return self.generator.classes

    @property
    def card(self) -> dict[str, Any]:
        """The model card (metrics, gate decisions per class, source run)."""
        return self.generator.card

    @property
    def providers(self) -> list[str]:
        return self.generator.providers

    def gate_passed(self, label: str | int) -> bool:
        return self.generator.gate_passed(label)

    def generate(self, label: str | int, n: int, *, seed: int | None = None, batch_size: int = 256) -> np.ndarray:
        """``n`` uint8 images (n, H, W, C) of class ``label`` (name or index); seeded = reproducible."""
        return self.generator.generate(label, n, seed=seed, batch_size=batch_size)

    def generate_pil(
        self, label: str | int, n: int, *, seed: int | None = None, batch_size: int = 256
    ) -> list[Image.Image]:
        """Like :meth:`generate`, as PIL images (mode L or RGB)."""
        return self.generator.generate_pil(label, n, seed=seed, batch_size=batch_size)

    def dataset(self, *args: Any, **options: Any) -> SyntheticDataset:
        """A purely synthetic, ImageFolder-like torch Dataset (imports torch); the arguments
        are :class:`~augment_gan.runtime.datasets.SyntheticDataset`'s after the model."""
        from augment_gan.runtime.datasets import SyntheticDataset

        return SyntheticDataset(self.generator, *args, **options)

    def balanced(self, real: Any, *args: Any, **options: Any) -> BalancedDataset:
        """``real`` (a torchvision ImageFolder) plus capped synthetic samples for its small classes;
        the arguments are :class:`~augment_gan.runtime.balanced.BalancedDataset`'s after the model."""
        from augment_gan.runtime.balanced import BalancedDataset

        return BalancedDataset(real, self.generator, *args, **options)

    def __repr__(self) -> str:
        return f"Augmenter({self.generator!r})"
