"""Checking and converting feature matrices (N×D) handed to the metrics."""

from __future__ import annotations

from typing import Union

import numpy as np
import torch

#: What every metric accepts as a feature matrix: one row per image.
Features = Union[np.ndarray, torch.Tensor]


def as_feature_tensor(features: Features, name: str, *, min_rows: int = 1) -> torch.Tensor:
    """Return ``features`` as a 2-D CPU tensor (float32 or float64), checked.

    Raises ``ValueError`` naming ``name`` when the input is not a finite N×D matrix of
    real numbers with at least ``min_rows`` rows. No copy is made when the input is
    already a float32/float64 CPU tensor or array.
    """
    if isinstance(features, np.ndarray):
        if not (np.issubdtype(features.dtype, np.number) or features.dtype == np.bool_):
            raise ValueError(f"{name} must hold numbers, got an array of dtype {features.dtype}.")
        tensor = torch.from_numpy(np.ascontiguousarray(features))
    elif isinstance(features, torch.Tensor):
        tensor = features.detach().cpu()
    else:
        raise ValueError(f"{name} must be a numpy array or a torch tensor of shape N×D, got {type(features).__name__}.")
    if tensor.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D matrix of shape N×D (one row per image), got shape {tuple(tensor.shape)}."
        )
    if tensor.is_complex():
        raise ValueError(f"{name} must hold real numbers, got dtype {tensor.dtype}.")
    if tensor.dtype not in (torch.float32, torch.float64):
        # Integer or half-precision features are upcast once here so every metric
        # sees one of the two dtypes it is written for.
        tensor = tensor.to(torch.float32)
    if tensor.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature dimensions; expected N×D with D ≥ 1.")
    if tensor.shape[0] < min_rows:
        raise ValueError(f"{name} has {tensor.shape[0]} rows but this metric needs at least {min_rows}.")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values; check the feature extractor.")
    return tensor


def check_same_dim(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same number of columns."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same feature dimension, "
            f"got {a.shape[1]} and {b.shape[1]}; were they made by the same extractor?"
        )
