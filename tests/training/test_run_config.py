"""A run's saved settings: the names the torch-free config checks, and what a resume may not change."""

from __future__ import annotations

import json

import pytest

from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import ConfigError
from augment_gan.training.config import DIFFAUGMENT_OPS, LOSSES, TrainConfig
from augment_gan.training.diffaugment import AUGMENTS
from augment_gan.training.losses import get_loss
from augment_gan.training.run import SettingsChanged, check_unchanged, start_run

TINY_NET = {"g_width": 4, "d_width": 4, "latent_dim": 8}


def test_the_config_checks_the_names_training_implements() -> None:
    assert DIFFAUGMENT_OPS == tuple(AUGMENTS)
    assert [get_loss(name).name for name in LOSSES] == list(LOSSES)
    with pytest.raises(ConfigError, match="DiffAugment"):
        TrainConfig(diffaugment="color,flip")


def test_check_unchanged_lists_only_the_settings_that_differ(digits_folder, tmp_path) -> None:
    run_dir, _ = start_run(tmp_path, "d", digits_folder, net=TINY_NET, train={"steps": 2, "batch_size": 4})
    check_unchanged(run_dir, net=TINY_NET, train={"steps": 9, "batch_size": 4}, channels="auto")  # steps: a budget
    with pytest.raises(SettingsChanged) as caught:
        check_unchanged(run_dir, net={"g_width": 8, "d_width": 4}, train={"batch_size": 4, "seed": 1})
    assert caught.value.changes == [("g_width", 8, 4), ("seed", 1, 0)]
    assert caught.value.describe({"g_width": "--g-width"}).count("--g-width 8 (run: 4)") == 1


def test_check_unchanged_reads_a_run_saved_before_an_option_existed(digits_folder, tmp_path) -> None:
    run_dir, _ = start_run(tmp_path, "d", digits_folder, net=TINY_NET)
    config = RunDir(run_dir).read_config()
    del config["net"]["minibatch_std"], config["train"]["mode_seeking"]  # as written by an older version
    RunDir(run_dir).config_path.write_text(json.dumps(config))
    check_unchanged(run_dir, train={"mode_seeking": 0.0})  # the default it ran with
    with pytest.raises(SettingsChanged, match="minibatch_std class \\(run: batch\\)"):
        check_unchanged(run_dir, net={"minibatch_std": "class"})


def test_start_run_refuses_a_bad_channels_value_before_loading(tmp_path) -> None:
    with pytest.raises(ConfigError, match="channels must be auto, 1 or 3"):
        start_run(tmp_path, "d", tmp_path / "missing", channels="2")
