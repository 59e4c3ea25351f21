"""torch Datasets over an exported generator; this module and :mod:`.balanced` are the only
runtime modules that import torch.

:class:`SyntheticDataset` is purely synthetic; :class:`~augment_gan.runtime.balanced.BalancedDataset`
tops up a real ImageFolder. Both generate lazily, one sample per ``__getitem__`` (nothing
big is cached), and each sample is a pure function of ``(seed, class, ordinal within the
class)`` (:func:`~augment_gan.runtime.latents.sample_latent`). So sample i is the same image
in every epoch, worker and batch, and sample j of class c is the same in both datasets and
in the files ``augment`` writes, for the same seed.

The onnxruntime session is never pickled: each DataLoader worker opens its own on first
use, on CPU with one intra-op thread unless the OnnxGenerator was given explicit providers /
threads (see :class:`LazyGenerator`). The main process (``num_workers=0``) uses "auto".

Example::

    ds = SyntheticDataset("models/digits/v1", n_per_class=100, transform=T.ToTensor())
    loader = DataLoader(ds, batch_size=64, shuffle=True, num_workers=2)
"""

from __future__ import annotations

import bisect
import copy
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from augment_gan.errors import ConfigError
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.images import to_pil
from augment_gan.runtime.plan import Requested, SkipKind, plan_classes
from augment_gan.runtime.providers import CPU, ProviderSpec

ModelLike = str | Path | OnnxGenerator


def as_generator(
    model: ModelLike | Any,
    *,
    models_dir: str | Path = "models",
    providers: str | Sequence[ProviderSpec] = "auto",
    intra_op_threads: int | None = None,
    select: bool = True,
) -> OnnxGenerator:
    """A OnnxGenerator from a loaded one, an Augmenter, a model dir path or a model name (lazy).

    ``select=False`` turns per-sample selection off (a loaded generator is copied, not changed)."""
    inner = getattr(model, "generator", None)
    if isinstance(inner, OnnxGenerator):  # an Augmenter
        model = inner
    if isinstance(model, OnnxGenerator):
        if not select and model.select:
            model = copy.copy(model)
            model.select = False
        return model
    return OnnxGenerator.load(
        model, models_dir=models_dir, providers=providers, intra_op_threads=intra_op_threads, lazy=True, select=select
    )


class LazyGenerator:
    """Holds the OnnxGenerator; in a DataLoader worker, its session defaults to CPU and one thread.

    Why: N workers x all-core thread pools oversubscribe the CPU; CUDA cannot be initialised
    again in a forked worker once the parent has used it; and one-sample batches gain
    nothing from a GPU. Explicit providers / intra_op_threads are respected.
    """

    def __init__(self, generator: OnnxGenerator) -> None:
        self.generator = generator

    def image(self, seed: int, class_index: int, ordinal: int) -> np.ndarray:
        gen = self.generator
        if get_worker_info() is not None and not gen.session_open:  # this worker's copy only
            if gen.intra_op_threads is None:
                gen.intra_op_threads = 1
            if gen.requested_providers == "auto":
                gen.requested_providers = [CPU]
        return gen.samples(class_index, seed, [ordinal])[0]  # (H, W, C) uint8, selected unless gen.select is off


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


class SyntheticDataset(Dataset):
    """Generated samples as ``(image, label)``, like torchvision's ``ImageFolder``.

    ``image`` is a PIL image (mode L or RGB; a uint8 (C, H, W) tensor with ``as_tensor``)
    passed through ``transform``; ``label`` is the class index in the model's class list
    (``.classes``), passed through ``target_transform``. Give the counts either per class
    (``per_class={"cat": 100, 2: 50}``, by name or index) or for every class
    (``n_per_class=100``). Samples are ordered by class, then ordinal. A class the quality
    gate failed is still made when asked for (by name, or by ``n_per_class``), with a warning.

    Example::

        ds = SyntheticDataset("models/digits/v1", n_per_class=100, transform=T.ToTensor())
        image, label = ds[0]          # tensor (1, 32, 32), 0
        len(ds), ds.classes           # 1000, ['0', '1', ..., '9']
    """

    def __init__(
        self,
        model: ModelLike,
        per_class: dict[str | int, int] | None = None,
        n_per_class: int | None = None,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        seed: int = 0,
        as_tensor: bool = False,
        *,
        models_dir: str | Path = "models",
        providers: str | Sequence[ProviderSpec] = "auto",
        intra_op_threads: int | None = None,
        select: bool = True,
    ) -> None:
        gen = as_generator(
            model, models_dir=models_dir, providers=providers, intra_op_threads=intra_op_threads, select=select
        )
        if (per_class is None) == (n_per_class is None):
            raise ConfigError("give exactly one of per_class (a dict of counts) and n_per_class (one count for all).")
        plan = plan_classes(gen, None, Requested(n_per_class if per_class is None else per_class))
        for c in plan.classes:
            if c.skip is SkipKind.GATE_FAILED:  # asked for by name or count: made, with a warning
                warnings.warn(
                    f"class {c.name!r} failed the quality gate ({c.detail}); its synthetic samples may hurt a classifier.",
                    stacklevel=2,
                )
        counts = [c.wanted for c in plan.classes]
        self._source = LazyGenerator(gen)
        self.seed = check_seed(seed)
        self.transform = transform
        self.target_transform = target_transform
        self.as_tensor = as_tensor
        self.classes: list[str] = gen.classes
        self.class_to_idx: dict[str, int] = {name: i for i, name in enumerate(self.classes)}
        self.counts: dict[str, int] = {self.classes[c]: n for c, n in enumerate(counts)}
        self._starts = np.cumsum([0, *counts]).tolist()
        self.targets: list[int] = [c for c, n in enumerate(counts) for _ in range(n)]

    @property
    def generator(self) -> OnnxGenerator:
        return self._source.generator

    def __len__(self) -> int:
        return self._starts[-1]

    def locate(self, index: int) -> tuple[int, int]:
        """(class index, ordinal within the class) of sample ``index``."""
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        c = bisect.bisect_right(self._starts, index) - 1
        return c, index - self._starts[c]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        c, j = self.locate(index)
        array = self._source.image(self.seed, c, j)
        image: Any = torch.from_numpy(array.transpose(2, 0, 1).copy()) if self.as_tensor else to_pil(array)
        target: Any = c
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
