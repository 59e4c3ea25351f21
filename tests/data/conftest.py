"""Fixtures building tiny image folders in tmp_path; nothing touches the home dir."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.mktemp("decode-cache")
    monkeypatch.setenv("AUGMENT_GAN_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def cache_dir(_isolated_cache: Path) -> Path:
    """The cache dir the loader uses by default in tests (via AUGMENT_GAN_CACHE_DIR)."""
    return _isolated_cache


def _write(path: Path, img: Image.Image, fmt: str | None = None, **save: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt, **save)
    return path


@pytest.fixture
def write_image() -> Callable[..., Path]:
    """write_image(path, img, fmt=None, **save_kwargs): save a PIL image, creating dirs."""
    return _write


@pytest.fixture
def solid() -> Callable[..., Path]:
    """solid(path, color=(r,g,b) or gray int, size=(w,h), mode=None): a one-colour image."""

    def make(path: Path, color: int | tuple[int, ...] = (200, 30, 60), size=(8, 6), mode=None):
        mode = mode or ("L" if isinstance(color, int) else "RGB")
        return _write(path, Image.new(mode, size, color))

    return make


@pytest.fixture
def noise_bytes() -> Callable[..., bytes]:
    """noise_bytes(fmt, size=(w,h)): encoded bytes of a deterministic noisy RGB image."""

    def make(fmt: str, size=(48, 40)) -> bytes:
        arr = (np.random.default_rng(0).random((size[1], size[0], 3)) * 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format=fmt)
        return buf.getvalue()

    return make


@pytest.fixture
def faulty_files(noise_bytes: Callable[..., bytes]) -> Callable[[Path], dict[str, str]]:
    """faulty_files(dir): write one file of every broken kind; returns {name: reason prefix}."""

    def make(folder: Path) -> dict[str, str]:
        folder.mkdir(parents=True, exist_ok=True)
        png, jpg = noise_bytes("PNG"), noise_bytes("JPEG")
        (folder / "empty.png").write_bytes(b"")
        (folder / "random.png").write_bytes(np.random.default_rng(1).bytes(500))
        (folder / "notes.jpg").write_text("this is not a jpeg\n")
        (folder / "cut.png").write_bytes(png[: len(png) // 2])
        (folder / "cut.jpg").write_bytes(jpg[: len(jpg) // 2])
        return {
            "empty.png": "zero-byte file",
            "random.png": "not an image (cannot identify image file)",
            "notes.jpg": "not an image (cannot identify image file)",
            "cut.png": "truncated or corrupt image data: ",
            "cut.jpg": "truncated or corrupt image data: ",
        }

    return make
