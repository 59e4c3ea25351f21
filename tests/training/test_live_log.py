"""``--log tensorboard``: the event files hold losses, metrics and grids, read back with
TensorBoard's own reader; without the extra, one line says how to install it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from augment_gan.errors import ConfigError
from augment_gan.evaluation.config import EvalConfig
from augment_gan.pipeline import Placement, TrainEval, resume, train
from tests.cli.helpers import error_lines, invoke
from tests.pipeline.test_stages import LENIENT, TINY_NET

TINY_TRAIN = {"steps": 4, "batch_size": 4, "checkpoint_every": 2, "holdout_fraction": 0.2, "log_every": 1}
TB = Placement(log="tensorboard")


def read_events(run_dir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    return events


def steps_of(events, tag: str) -> list[int]:
    return [e.step for e in events.Scalars(tag)]


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run trained 4 steps with --log tensorboard, evaluated every 2."""
    from tests.conftest import make_digits_folder

    tmp = tmp_path_factory.mktemp("live")
    evaluation = TrainEval(every=2, config=EvalConfig(samples_per_class=12, judge_steps=5), thresholds=LENIENT)
    return train(
        make_digits_folder(tmp),
        "d",
        models_dir=tmp / "models",
        net=TINY_NET,
        train=TINY_TRAIN,
        placement=TB,
        evaluation=evaluation,
    ).run_dir


def test_event_files_hold_every_window_of_losses_scores_rates_and_speed(logged_run: Path) -> None:
    from augment_gan.contracts.run_dir import RunDir

    events = read_events(logged_run)
    windows = [r for r in RunDir(logged_run).read_metrics() if "loss_d" in r]
    for key, tag in (
        ("loss_d", "loss/D"),
        ("loss_g", "loss/G"),
        ("d_real", "D_output/real"),
        ("d_fake", "D_output/fake"),
        ("lr_g", "learning_rate/G"),
        ("sec_per_step", "speed/sec_per_step"),
    ):
        logged = events.Scalars(tag)
        assert [e.step for e in logged] == [1, 2, 3, 4], tag
        assert [e.value for e in logged] == pytest.approx([r[key] for r in windows], rel=1e-6), tag
    assert events.Scalars("learning_rate/D")[0].value == pytest.approx(2e-4)


def test_event_files_hold_each_class_metrics_at_every_evaluation(logged_run: Path) -> None:
    from augment_gan.contracts.run_dir import RunDir

    events = read_events(logged_run)
    report = RunDir(logged_run).read_eval_report(4)
    for name in ("0", "1", "2", "all classes"):
        assert steps_of(events, f"eval_fid/{name}") == [2, 4]  # step 0 only with TrainEval(step0=True)
        assert steps_of(events, f"eval_class_consistency/{name}") == [2, 4]
    assert events.Scalars("eval_fid/1")[-1].value == pytest.approx(report["classes"]["1"]["fid"], rel=1e-6)
    assert [e.value for e in events.Scalars("gate/classes_passing")] == [3, 3]  # lenient gate: all pass


def test_event_files_hold_the_sample_grid_of_every_checkpoint(logged_run: Path) -> None:
    import io

    import numpy as np
    from PIL import Image

    events = read_events(logged_run)
    grids = events.Images("samples")
    assert [g.step for g in grids] == [0, 2, 4]
    with Image.open(logged_run / "samples" / "step-0000004.png") as png:
        assert (grids[-1].width, grids[-1].height) == png.size
        logged = Image.open(io.BytesIO(grids[-1].encoded_image_string)).convert("L")
        assert np.array_equal(np.asarray(logged), np.asarray(png.convert("L")))  # the very grid, lossless


def test_a_resumed_run_logs_each_step_once(logged_run: Path, tmp_path: Path) -> None:
    import shutil

    from augment_gan.contracts.run_dir import RunDir

    run_dir = tmp_path / "run"
    shutil.copytree(logged_run, run_dir)
    (run_dir / "checkpoints" / "step-0000004.pt").unlink()  # as if killed after step 4 was logged
    resume(run_dir, steps=6, placement=TB)
    assert RunDir(run_dir).checkpoints()[-1][0] == 6
    assert steps_of(read_events(run_dir), "loss/D") == [1, 2, 3, 4, 5, 6]  # 3 and 4 again, not twice


def test_without_the_extra_the_option_is_one_line_that_says_how_to_install_it(
    digits_folder, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` now raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'augment-gan\[tensorboard\]'"):
        train(digits_folder, "d", models_dir=tmp_path, net=TINY_NET, train=TINY_TRAIN, placement=TB)
    result = invoke(
        "train", digits_folder, "--name", "d", "--models-dir", tmp_path, "--steps", "1", "--log", "tensorboard"
    )
    assert result.exit_code != 0
    assert error_lines(result) == [
        "error: --log tensorboard needs the tensorboard package: pip install 'augment-gan[tensorboard]'."
    ]
    assert not (tmp_path / "d").exists()  # refused before a run dir was made


def test_an_unknown_log_kind_is_refused(digits_folder, tmp_path) -> None:
    with pytest.raises(ConfigError, match="--log must be one of none, tensorboard"):
        train(digits_folder, "d", models_dir=tmp_path, placement=Placement(log="wandb"))
