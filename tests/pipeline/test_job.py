"""``pipeline.run``: the whole job in one call (its CLI twin is ``augment-gan run``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import ConfigError
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import generate_per_class, load_ema_generator
from augment_gan.nets import NetConfig
from augment_gan.pipeline import run
from augment_gan.training import TrainConfig
from augment_gan.training.run import new_run


def test_run_loads_the_folder_at_the_nets_resolution(digits_folder: Path, tmp_path: Path) -> None:
    """--resolution 64 trains on 64 px images, not on the 32 px decode with nets built for 64."""
    result = run(
        digits_folder,
        "d64",
        models_dir=tmp_path / "models",
        net={"g_width": 4, "d_width": 4, "latent_dim": 8, "resolution": 64},
        train=TrainConfig(steps=1, batch_size=4, checkpoint_every=1, holdout_fraction=0.2),
        evaluation=EvalConfig(samples_per_class=8, judge_steps=2),
    )
    assert result.data.resolution == 64 and tuple(result.data.images.shape[-2:]) == (64, 64)
    config = RunDir(result.run_dir).read_config()
    assert config["data"]["resolution"] == config["net"]["resolution"] == 64
    generator, g_cfg, _ = load_ema_generator(RunDir(result.run_dir).checkpoints()[-1][1])
    assert tuple(generate_per_class(generator, g_cfg, 1, 0).shape[-2:]) == (64, 64)


def test_new_run_refuses_data_decoded_at_another_resolution(digits_folder: Path, tmp_path: Path) -> None:
    from augment_gan.data import load_image_folder

    data = load_image_folder(digits_folder, resolution=32, progress=False)
    net = NetConfig(num_classes=len(data.classes), resolution=64, channels=data.channels)
    with pytest.raises(ConfigError, match="loaded at 32 px but the nets are built for 64 px"):
        new_run(tmp_path / "models", "d", data, net, TrainConfig(steps=1))
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").rglob("config.json"))
