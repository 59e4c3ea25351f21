"""Fixtures: one tiny exported generator per channel count (built once), model dirs per test."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from augment_gan.nets import Generator, NetConfig
from tests.export.helpers import CLASSES, export_tiny, tiny_config, write_tiny_model


@pytest.fixture(scope="session")
def exported_gray() -> tuple[NetConfig, Generator, bytes, int]:
    torch.set_num_threads(1)
    cfg = tiny_config(channels=1)
    return (cfg, *export_tiny(cfg, CLASSES))


@pytest.fixture(scope="session")
def exported_rgb() -> tuple[NetConfig, Generator, bytes, int]:
    torch.set_num_threads(1)
    cfg = tiny_config(channels=3)
    return (cfg, *export_tiny(cfg, CLASSES, seed=1))


@pytest.fixture
def model_dir(tmp_path: Path, exported_gray) -> Path:
    cfg, _, data, _ = exported_gray
    return write_tiny_model(tmp_path / "models", data, cfg, CLASSES)


@pytest.fixture
def rgb_model_dir(tmp_path: Path, exported_rgb) -> Path:
    cfg, _, data, _ = exported_rgb
    return write_tiny_model(tmp_path / "models", data, cfg, CLASSES, name="tiny-rgb")
