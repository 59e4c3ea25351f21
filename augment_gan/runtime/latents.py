"""The latent noise behind every generated image: one definition for every consumer.

Two streams, both plain numpy (``np.random.default_rng``), float32:

- **per sample** (``augment``, the Datasets): sample *j* of class *c* under seed *s* is
  ``default_rng([s, c, j]).standard_normal((1, latent_dim))`` -- a pure function of
  ``(s, c, j)``, so file *j* of a class is the same image in ``augment``,
  ``SyntheticDataset`` and ``BalancedDataset``, in any worker, batch or epoch;
- **per request** (``OnnxGenerator.generate``, the service): ``n`` images with seed *s* are
  ``default_rng(s).standard_normal((n, latent_dim))``, drawn in one piece, so they do not
  depend on the batch size.

Under per-sample selection (:mod:`~augment_gan.runtime.selection`) a rejected sample is
replaced by its next candidate, :func:`retry_latent` (attempt 1, 2, ...); attempt 0 is the
latent above, so an accepted first candidate is the same image with selection on or off.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def sample_latent(seed: int, class_index: int, ordinal: int, latent_dim: int) -> np.ndarray:
    """The (1, latent_dim) latent of sample ``ordinal`` of class ``class_index``."""
    return np.random.default_rng([seed, class_index, ordinal]).standard_normal((1, latent_dim), dtype=np.float32)


def sample_latents(seed: int, class_index: int, ordinals: Iterable[int], latent_dim: int) -> np.ndarray:
    """Row k is :func:`sample_latent` of ``ordinals[k]``: (len(ordinals), latent_dim)."""
    rows = [sample_latent(seed, class_index, j, latent_dim) for j in ordinals]
    return np.concatenate(rows) if rows else np.empty((0, latent_dim), dtype=np.float32)


def retry_latent(
    seed: int, class_index: int, ordinal: int, attempt: int, latent_dim: int, stream: int = 0
) -> np.ndarray:
    """The (1, latent_dim) latent of candidate ``attempt`` >= 1 of a sample under per-sample
    selection (attempt 0 is the sample's own latent). ``stream`` 0: the per-sample stream;
    1: the per-request one (``ordinal`` = row of the request)."""
    key = [seed, class_index, ordinal, attempt] + ([stream] if stream else [])
    return np.random.default_rng(key).standard_normal((1, latent_dim), dtype=np.float32)


def request_latents(n: int, seed: int | None, latent_dim: int) -> np.ndarray:
    """The (n, latent_dim) latents of one ``generate(label, n, seed=seed)`` call."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim), dtype=np.float32)
