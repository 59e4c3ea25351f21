"""Shared fixtures: an isolated decode cache, tiny real-digits and photo folders, tiny nets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from augment_gan.data.digits import write_digits_folder
from augment_gan.nets import NetConfig
from augment_gan.run import TrainConfig


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Nothing a test does writes to the home dir's cache (decoded images, judges)."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUGMENT_GAN_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture(autouse=True)
def _tiny_utility_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """promote's utility check with 2 seeds of 20 steps: its arithmetic, at a test's cost."""
    from augment_gan import promote
    from augment_gan.evaluation.utility import UtilityConfig

    monkeypatch.setattr(promote, "DEFAULT_UTILITY", UtilityConfig(seeds=2, steps=20, batch_size=16, width=4))


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(1)  # tiny nets: threading overhead dominates


def make_digits_folder(parent: Path) -> Path:
    """Real handwritten digits, 3 classes of 12, 8 and 6 images (8x8 grayscale PNGs)."""
    folder = parent / "digits"
    write_digits_folder(folder, minority={0: 12, 1: 8, 2: 6, **{c: 0 for c in range(3, 10)}})
    for c in range(3, 10):  # drop the emptied classes
        (folder / str(c)).rmdir()
    return folder


def make_photo_folder(parent: Path, counts: dict[str, int], size: int = 200, seed: int = 0) -> Path:
    """Real photographs: per class (``china``, ``flower``: scikit-learn's two sample photos),
    ``counts[class]`` random ``size`` x ``size`` crops of its photo, saved as JPEGs."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photos = dict(zip(("china", "flower"), load_sample_images().images))
    rng = np.random.default_rng(seed)
    folder = parent / "photos"
    for name, n in counts.items():
        photo = photos[name]
        (folder / name).mkdir(parents=True)
        for k in range(n):
            y, x = rng.integers(0, photo.shape[0] - size), rng.integers(0, photo.shape[1] - size)
            Image.fromarray(photo[y : y + size, x : x + size]).save(folder / name / f"crop-{k:03d}.jpg", quality=90)
    return folder


@pytest.fixture
def digits_folder(tmp_path: Path) -> Path:
    return make_digits_folder(tmp_path)


@pytest.fixture
def tiny_net() -> NetConfig:
    return NetConfig(num_classes=3, resolution=32, channels=1, latent_dim=8, g_width=4, d_width=4)


@pytest.fixture
def tiny_train() -> TrainConfig:
    return TrainConfig(steps=6, batch_size=8, checkpoint_every=3, log_every=2, seed=7)
