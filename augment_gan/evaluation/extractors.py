"""Pluggable feature extractors: a base class, a name → factory registry, and batching.

An extractor maps uint8 images (N×C×H×W, values 0–255) to float32 features (N×D). The
built-in ``"inception"`` extractor (FID's InceptionV3 pool3) is registered lazily — its
module is imported only when it is asked for — and other extractors (such as a small CNN
trained on the user's own data) are added with :func:`register_extractor`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from augment_gan.errors import ConfigError

#: Makes an extractor from keyword arguments, e.g. ``weights_path=...``.
ExtractorFactory = Callable[..., "FeatureExtractor"]


class FeatureExtractor(nn.Module):
    """Base class of feature extractors.

    Subclasses set ``feature_dim`` (D) and ``needs_rgb`` (True when ``forward`` requires 3
    channels; :func:`extract_features` then repeats grayscale images to 3 channels), and
    implement ``forward(images_uint8: N×C×H×W uint8) -> N×D float32``.
    """

    feature_dim: int
    needs_rgb: bool = False

    def forward(self, images_uint8: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


def _inception_factory(**kwargs: Any) -> FeatureExtractor:
    # Imported here, not at module level: building InceptionV3 pulls in torchvision and
    # reads a 90 MB weights file, which callers that only use other extractors never need.
    from augment_gan.evaluation.inception import load_inception

    return load_inception(**kwargs)


_REGISTRY: dict[str, ExtractorFactory] = {"inception": _inception_factory}


def register_extractor(name: str, factory: ExtractorFactory, *, overwrite: bool = False) -> None:
    """Make ``get_extractor(name, **kwargs)`` return ``factory(**kwargs)``.

    Raises ``ValueError`` when ``name`` is already registered, unless ``overwrite``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"An extractor name must be a non-empty string, got {name!r}.")
    if not callable(factory):
        raise ValueError(f"The factory for extractor {name!r} must be callable, got {factory!r}.")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"An extractor named {name!r} is already registered; pass overwrite=True to replace it.")
    _REGISTRY[name] = factory


def available_extractors() -> list[str]:
    """Return the registered extractor names, sorted."""
    return sorted(_REGISTRY)


def get_extractor(name: str, **kwargs: Any) -> FeatureExtractor:
    """Build the extractor registered as ``name``, passing ``kwargs`` to its factory.

    Raises :class:`~augment_gan.errors.ConfigError` for an unknown name, listing the
    available ones.
    """
    factory = _REGISTRY.get(name)
    if factory is None:
        choices = ", ".join(available_extractors())
        raise ConfigError(f"Unknown feature extractor {name!r}; choose one of: {choices}.")
    extractor = factory(**kwargs)
    if not isinstance(extractor, FeatureExtractor):
        raise TypeError(
            f"The factory for extractor {name!r} returned {type(extractor).__name__}, not a FeatureExtractor."
        )
    return extractor


def _default_device(module: nn.Module) -> torch.device:
    parameter = next(module.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def extract_features(
    extractor: FeatureExtractor,
    images_uint8: torch.Tensor | np.ndarray,
    *,
    batch_size: int = 64,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """Return ``extractor``'s float32 features (N×D numpy array) for uint8 N×C×H×W images.

    Runs batch by batch under ``torch.inference_mode()`` with the extractor in eval mode
    (its previous mode is restored afterwards). ``device`` defaults to the device of the
    extractor's parameters; when given, the extractor is moved there. Grayscale images
    (C = 1) are repeated to 3 channels when ``extractor.needs_rgb``.
    """
    images = torch.as_tensor(images_uint8)
    if images.dtype != torch.uint8:
        raise ValueError(f"images_uint8 must have dtype uint8 (0–255), got {images.dtype}.")
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images_uint8 must have shape N×C×H×W with C = 1 or 3, got {tuple(images.shape)}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if device is None:
        target = _default_device(extractor)
    else:
        target = torch.device(device)
        extractor.to(target)

    features = np.empty((images.shape[0], extractor.feature_dim), dtype=np.float32)
    was_training = extractor.training
    extractor.eval()
    try:
        with torch.inference_mode():
            for start in range(0, images.shape[0], batch_size):
                batch = images[start : start + batch_size].to(target)
                if extractor.needs_rgb and batch.shape[1] == 1:
                    batch = batch.repeat(1, 3, 1, 1)
                out = extractor(batch)
                if out.ndim != 2 or out.shape != (batch.shape[0], extractor.feature_dim):
                    raise RuntimeError(
                        f"{type(extractor).__name__} returned shape {tuple(out.shape)}, expected "
                        f"({batch.shape[0]}, {extractor.feature_dim})."
                    )
                features[start : start + batch.shape[0]] = out.float().cpu().numpy()
    finally:
        extractor.train(was_training)
    return features
