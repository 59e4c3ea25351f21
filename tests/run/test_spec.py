"""The run's one spec (config.json read back typed), what a resume may change, and the Run opened once."""

from __future__ import annotations

import json

import pytest

from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import CheckpointError, ConfigError
from augment_gan.run import EvalSchedule, Run, RunSpec, SettingsChanged, TrainConfig, check_unchanged, start_run
from augment_gan.run.train_config import DIFFAUGMENT_OPS, LOSSES
from augment_gan.training.diffaugment import AUGMENTS
from augment_gan.training.losses import get_loss

TINY_NET = {"g_width": 4, "d_width": 4, "latent_dim": 8}


def test_the_config_checks_the_names_training_implements() -> None:
    assert DIFFAUGMENT_OPS == tuple(AUGMENTS)
    assert [get_loss(name).name for name in LOSSES] == list(LOSSES)
    with pytest.raises(ConfigError, match="DiffAugment"):
        TrainConfig(diffaugment="color,flip")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"fake_labels": "balanced"}, "fake labels must be one of as-real, uniform"),
        ({"fake_labels": "uniform", "loss": "wgan-gp"}, "needs --fake-labels as-real"),
    ],
)
def test_conflicting_or_unknown_class_options_fail_with_one_line(fields, message) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**fields)


def test_a_config_saved_before_a_default_changed_reads_as_it_trained() -> None:
    # saved before --diffaugment-below existed: its policy applied to every class
    old = {k: v for k, v in TrainConfig(diffaugment="color").to_dict().items() if k != "diffaugment_below"}
    assert TrainConfig.from_dict(old).diffaugment_below == 0
    assert TrainConfig.from_dict({**old, "diffaugment_below": 50}).diffaugment_below == 50
    assert TrainConfig().diffaugment_below == 50  # a new run: the small classes only


def test_the_spec_round_trips_through_config_json(digits_folder, tmp_path) -> None:
    run = start_run(
        tmp_path,
        "d",
        digits_folder,
        net=TINY_NET,
        train=TrainConfig(steps=3, batch_size=4, lecam=0.1),
        evaluation=EvalSchedule(every=3, samples_per_class=12, judge_steps=5),
        progress=False,
    )
    read = RunSpec.read(run.path)
    assert read == run.spec
    assert (read.train.lecam, read.evaluation.every, read.net.g_width, read.data.classes) == (
        0.1,
        3,
        4,
        ("0", "1", "2"),
    )
    assert read.data.counts == run.data.class_counts() == {"0": 12, "1": 8, "2": 6}


def test_a_resume_may_change_only_what_cannot_change_the_weights(digits_folder, tmp_path) -> None:
    run = start_run(
        tmp_path, "d", digits_folder, net=TINY_NET, train=TrainConfig(steps=2, batch_size=4), progress=False
    )
    sparser = run.spec.with_changes(train={"checkpoint_every": 1000, "steps": 9})
    assert (sparser.train.checkpoint_every, sparser.train.steps, sparser.train.batch_size) == (1000, 9, 4)
    with pytest.raises(ConfigError, match="cannot change batch_size, lr_g"):
        run.spec.with_changes(train={"lr_g": 1e-3, "batch_size": 8})
    check_unchanged(run.path, net=TINY_NET, train={"steps": 9, "batch_size": 4, "checkpoint_every": 7})


def test_check_unchanged_lists_only_the_settings_that_differ(digits_folder, tmp_path) -> None:
    run = start_run(
        tmp_path, "d", digits_folder, net=TINY_NET, train=TrainConfig(steps=2, batch_size=4), progress=False
    )
    with pytest.raises(SettingsChanged) as caught:
        check_unchanged(run.path, net={"g_width": 8, "d_width": 4}, train={"batch_size": 4, "seed": 1})
    assert caught.value.changes == [("g_width", 8, 4), ("seed", 1, 0)]
    assert caught.value.describe({"g_width": "--g-width"}).count("--g-width 8 (run: 4)") == 1


def test_a_run_saved_before_an_option_existed_reads_with_its_default(digits_folder, tmp_path) -> None:
    run = start_run(tmp_path, "d", digits_folder, net=TINY_NET, progress=False)
    config = RunDir(run.path).read_config()
    del config["net"]["minibatch_std"], config["train"]["mode_seeking"], config["evaluation"]  # an older version's
    RunDir(run.path).config_path.write_text(json.dumps(config))
    assert RunSpec.read(run.path).evaluation == EvalSchedule()
    check_unchanged(run.path, train={"mode_seeking": 0.0})  # the default it ran with
    with pytest.raises(SettingsChanged, match="minibatch_std class \\(run: batch\\)"):
        check_unchanged(run.path, net={"minibatch_std": "class"})


def test_start_run_refuses_a_bad_channels_value_before_loading(tmp_path) -> None:
    with pytest.raises(ConfigError, match="channels must be auto, 1 or 3"):
        start_run(tmp_path, "d", tmp_path / "missing", channels="2")


def test_a_spec_refuses_data_decoded_at_another_resolution(digits_folder, tmp_path) -> None:
    run = start_run(tmp_path, "d", digits_folder, net=TINY_NET, progress=False)
    with pytest.raises(ConfigError, match="loaded at 32 px but the nets are built for 64 px"):
        RunSpec(run.spec.name, run.spec.data, run.spec.net.__class__(**{**run.spec.net.to_dict(), "resolution": 64}))


def test_an_opened_run_loads_its_folder_once_and_checks_it_is_unchanged(digits_folder, tmp_path) -> None:
    path = start_run(tmp_path, "d", digits_folder, net=TINY_NET, progress=False).path
    run = Run.open(path, progress=False)
    assert run.data is run.data  # loaded once
    train_idx, hold_idx = run.split
    assert len(train_idx) + len(hold_idx) == len(run.data.labels) and len(hold_idx) > 0
    (next((digits_folder / "0").iterdir())).write_bytes(b"not an image any more")
    with pytest.raises(CheckpointError, match="changed since run"):
        _ = Run.open(path, progress=False).data
