"""Fixtures for augment/clean: tiny exported generators (built once) and model dirs per test."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from augment_gan.runtime.generator import OnnxGenerator
from tests.export.helpers import export_tiny, gate, tiny_config, write_tiny_model

DIGITS = ["0", "1", "2"]  # the classes of the shared digits_folder fixture (12, 8, 6 images)


@pytest.fixture(scope="session")
def onnx_gray() -> tuple[Any, bytes]:
    cfg = tiny_config(channels=1)
    return cfg, export_tiny(cfg, DIGITS)[1]


@pytest.fixture(scope="session")
def onnx_rgb() -> tuple[Any, bytes]:
    cfg = tiny_config(channels=3)
    return cfg, export_tiny(cfg, DIGITS, seed=1)[1]


@pytest.fixture
def make_model(tmp_path: Path, onnx_gray, onnx_rgb) -> Callable[..., Path]:
    """make_model(channels=1, classes=DIGITS, failed={"2": ["kid ..."]}, ungated=False) -> model dir."""
    counter = iter(range(100))

    def make(
        channels: int = 1,
        classes: list[str] | None = None,
        failed: dict[str, list[str]] | None = None,
        ungated: bool = False,
        name: str | None = None,
    ) -> Path:
        cfg, data = onnx_gray if channels == 1 else onnx_rgb
        classes = classes or DIGITS
        block = {"ran": False} if ungated else gate(classes, failed)
        return write_tiny_model(
            tmp_path / "models", data, cfg, classes, gate_block=block, name=name or f"tiny{next(counter)}"
        )

    return make


@pytest.fixture
def model_dir(make_model) -> Path:
    return make_model()


def load(model_dir: Path) -> OnnxGenerator:
    return OnnxGenerator.load(model_dir, providers=["CPUExecutionProvider"], intra_op_threads=1)


def tree(root: Path) -> dict[str, str]:
    """Every file (hidden too) and folder under root -> sha256 ('dir' for folders)."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def synthetic_files(root: Path) -> dict[str, str]:
    return {k: v for k, v in tree(root).items() if "/synthetic-" in k and not k.endswith(".tmp")}


def write_images(root: Path, spec: dict[str, list[tuple[str, tuple[int, int]]]]) -> Path:
    """root/<class>/img-<k>.png with the given (mode, (w, h)) each; random pixels."""
    rng = np.random.default_rng(0)
    for cls, images in spec.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for k, (mode, (w, h)) in enumerate(images):
            shape = (h, w) if mode == "L" else (h, w, 3)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(root / cls / f"img-{k}.png")
    return root
