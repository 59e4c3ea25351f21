"""``BalancedDataset``: a real ImageFolder topped up with capped synthetic samples (torch).

Why it caps the synthetic share instead of filling classes up: on an imbalanced MNIST
split, filling minority classes to the majority count with samples of a good-looking
cGAN, drawn uniformly, *lowered* minority recall (0.68 -> 0.61), while a 25 % synthetic
share per class with real oversampling and affine augmentation raised it over
oversampling + affine alone (0.927 -> 0.944). Synthetic images should add to a small
class's real images, not drown them. Sample j of class c is the same image as in
:class:`~augment_gan.runtime.datasets.SyntheticDataset` for the same seed.

Example::

    from torchvision.datasets import ImageFolder
    from torchvision import transforms as T
    real = ImageFolder("data/train", transform=T.Compose([T.RandomAffine(10), T.ToTensor()]))
    ds = BalancedDataset(real, "models/digits/v1", synthetic_share=0.25)
    loader = DataLoader(ds, batch_size=64, sampler=ds.sampler(), num_workers=2)
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, WeightedRandomSampler

from augment_gan.contracts.model_dir import require_gated
from augment_gan.errors import ConfigError
from augment_gan.runtime.datasets import LazyGenerator, ModelLike, as_generator, check_seed
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.images import to_pil
from augment_gan.runtime.plan import SkipKind, TopUp, plan_classes
from augment_gan.runtime.providers import ProviderSpec
from augment_gan.runtime.target import parse_target

# what ``skipped_classes`` says for each reason (the plan's order and rule; these words are this API's)
_SKIPPED = {
    SkipKind.NO_REAL: "no real images to add synthetic ones to",
    SkipKind.NOT_IN_MODEL: "not a class of the model: real images only",
    SkipKind.NOT_IN_FOLDER: "a class of the model but not in the folder: ignored",
    SkipKind.GATE_FAILED: "failed the quality gate",
}


class BalancedDataset(Dataset):
    """A real ImageFolder plus capped synthetic samples for its small classes.

    Indices ``[0, len(real))`` are the real samples (``real[i]`` exactly); after them come
    the synthetic ones. Class indices are ``real.class_to_idx`` (real class names are
    matched to the model's by name; mismatches are reported in ``skipped_classes``, never
    guessed), and both kinds go through ``real.transform`` / ``real.target_transform``.
    Synthetic images are converted to the mode and size of the folder's first image as
    ``real.loader`` returns it, so ``__getitem__`` returns what ImageFolder would.

    A class gets ``ceil(target * synthetic_share)`` synthetic samples when its real count is
    below ``target`` ("max": the largest class; N; "ratio:R") and the gate passed it (an
    ungated model is refused unless ``allow_ungated=True``): the one consumer plan,
    :func:`~augment_gan.runtime.plan.plan_classes` with :class:`~augment_gan.runtime.plan.TopUp`. Use :meth:`sampler`: every class gets equal
    mass, the synthetic samples of a class exactly ``synthetic_share`` of it and its
    (oversampled) real images the rest. See the module docstring for why the share is
    capped rather than filling classes up.

    ``mark_synthetic=True`` returns ``(image, target, is_synthetic)`` so that the training
    loss can weight synthetic samples apart from real ones (see
    :func:`synthetic_weighted_loss`).

    Example::

        ds = BalancedDataset(ImageFolder("data/train", transform=T.ToTensor()), "digits", target="max")
        ds.synthetic_counts, ds.skipped_classes   # {'7': 250, ...}, {'9': 'failed the quality gate: ...'}
        DataLoader(ds, batch_size=64, sampler=ds.sampler(), num_workers=2)
    """

    def __init__(
        self,
        real: Any,
        model: ModelLike,
        target: str | int = "max",
        synthetic_share: float = 0.25,
        seed: int = 0,
        *,
        allow_ungated: bool = False,
        models_dir: str | Path = "models",
        providers: str | Sequence[ProviderSpec] = "auto",
        intra_op_threads: int | None = None,
        mark_synthetic: bool = False,
        select: bool = True,
    ) -> None:
        gen = as_generator(
            model, models_dir=models_dir, providers=providers, intra_op_threads=intra_op_threads, select=select
        )
        if not 0.0 <= float(synthetic_share) < 1.0:
            raise ConfigError(f"synthetic_share must be in [0, 1), got {synthetic_share}.")
        if not allow_ungated:
            require_gated(gen.model_dir, gen.card, "allow_ungated=True")
        self.real = real
        self.mark_synthetic = bool(mark_synthetic)
        self.seed = check_seed(seed)
        self.synthetic_share = float(synthetic_share)
        self._source = LazyGenerator(gen)
        self.classes: list[str] = list(real.classes)
        self.class_to_idx: dict[str, int] = dict(real.class_to_idx)
        targets = [int(t) for t in real.targets]
        folder_order = sorted(self.class_to_idx, key=self.class_to_idx.get)
        self.real_counts: dict[str, int] = {name: targets.count(self.class_to_idx[name]) for name in folder_order}
        plan = plan_classes(gen, self.real_counts, TopUp(parse_target(target), self.synthetic_share))
        self.target: int = plan.target  # type: ignore[assignment]
        self.synthetic_counts: dict[str, int] = plan.counts
        self.skipped_classes: dict[str, str] = {
            name: _SKIPPED[c.skip] + (f": {c.detail}" if c.detail else "") for name, c in plan.skipped.items()
        }
        # synthetic block b: folder class index, model class index, first dataset index
        self._blocks = [(self.class_to_idx[c.name], c.index) for c in plan.classes if c.count]
        self._starts = np.cumsum([len(targets), *self.synthetic_counts.values()]).tolist()
        self.targets: list[int] = targets + [
            c for (c, _), n in zip(self._blocks, self.synthetic_counts.values()) for _ in range(n)
        ]
        self._mode, self._size = self._real_image_format()

    def _real_image_format(self) -> tuple[str | None, tuple[int, int] | None]:
        """Mode and size of the folder's first image as the folder's loader returns it."""
        if not self.synthetic_counts or not getattr(self.real, "samples", None):
            return None, None
        image = self.real.loader(self.real.samples[0][0])
        return (image.mode, image.size) if isinstance(image, Image.Image) else (None, None)

    @property
    def generator(self) -> OnnxGenerator:
        return self._source.generator

    def __len__(self) -> int:
        return self._starts[-1]

    def is_synthetic(self, index: int) -> bool:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        return index >= self._starts[0]

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        """``(image, target)``, or ``(image, target, is_synthetic)`` with ``mark_synthetic=True``."""
        item = self._item(index)
        return (*item, self.is_synthetic(index)) if self.mark_synthetic else item

    def _item(self, index: int) -> tuple[Any, Any]:
        if not self.is_synthetic(index):
            return self.real[index % len(self)]
        index %= len(self)
        b = bisect.bisect_right(self._starts, index) - 1
        folder_class, model_class = self._blocks[b]
        image = to_pil(self._source.image(self.seed, model_class, index - self._starts[b]))
        if self._mode is not None and image.mode != self._mode:
            image = image.convert(self._mode)
        if self._size is not None and image.size != self._size:
            image = image.resize(self._size, Image.Resampling.BICUBIC)
        target: Any = folder_class
        if self.real.transform is not None:
            image = self.real.transform(image)
        if self.real.target_transform is not None:
            target = self.real.target_transform(target)
        return image, target

    def sample_weights(self) -> torch.Tensor:
        """Per-sample weights: equal mass per class; synthetic = ``synthetic_share`` of a topped-up class."""
        weights = torch.zeros(len(self), dtype=torch.float64)
        real_targets = torch.tensor(self.targets[: self._starts[0]], dtype=torch.long)
        present = [name for name, n in self.real_counts.items() if n > 0]
        class_mass = 1.0 / max(len(present), 1)
        for name in present:
            c = self.class_to_idx[name]
            n_syn = self.synthetic_counts.get(name, 0)
            share = self.synthetic_share if n_syn else 0.0
            weights[: self._starts[0]][real_targets == c] = class_mass * (1.0 - share) / self.real_counts[name]
        for b, n_syn in enumerate(self.synthetic_counts.values()):
            weights[self._starts[b] : self._starts[b + 1]] = class_mass * self.synthetic_share / n_syn
        return weights

    def sampler(
        self, num_samples: int | None = None, generator: torch.Generator | None = None
    ) -> WeightedRandomSampler:
        """A WeightedRandomSampler (with replacement) over :meth:`sample_weights`.

        ``num_samples`` defaults to ``len(classes) * target``: one balanced epoch.
        """
        n = num_samples if num_samples is not None else len(self.classes) * self.target
        return WeightedRandomSampler(self.sample_weights(), num_samples=n, replacement=True, generator=generator)


def synthetic_weighted_loss(
    per_sample_loss: torch.Tensor, is_synthetic: torch.Tensor, synthetic_weight: float
) -> torch.Tensor:
    """The batch mean of ``per_sample_loss`` with synthetic samples weighted ``synthetic_weight``
    (real ones 1), normalised by the total weight: a synthetic image counts as a fraction of a
    real one, the way He et al. 2023 treat generated data as a separate domain.

    Example (with ``BalancedDataset(..., mark_synthetic=True)``)::

        for x, y, synthetic in loader:
            loss = synthetic_weighted_loss(F.cross_entropy(model(x), y, reduction="none"), synthetic, 0.5)
    """
    if not 0.0 <= synthetic_weight:
        raise ConfigError(f"synthetic_weight must be >= 0, got {synthetic_weight}.")
    weights = torch.where(
        is_synthetic.to(per_sample_loss.device).bool(),
        per_sample_loss.new_tensor(synthetic_weight),
        per_sample_loss.new_tensor(1.0),
    )
    return (per_sample_loss * weights).sum() / weights.sum().clamp_min(1e-12)
