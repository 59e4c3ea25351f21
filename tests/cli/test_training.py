"""``augment-gan train`` and ``augment-gan resume`` on a tiny folder of real digits."""

import json
from pathlib import Path

import pytest

from augment_gan.nets import NetConfig
from augment_gan.run import TrainConfig
from augment_gan.training import TrainingInterrupted
from augment_gan.training.trainer import Trainer
from tests.cli.helpers import TINY, error_lines, invoke


def _train(digits_folder: Path, tmp_path: Path, *args: object):
    return invoke("train", digits_folder, "--name", "digits", "--models-dir", tmp_path / "models", *args)


def _only_run(tmp_path: Path) -> Path:
    (run_dir,) = (tmp_path / "models" / "digits" / "runs").iterdir()
    return run_dir


def _config(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())


def _checkpoints(run_dir: Path) -> list[str]:
    return sorted(p.name for p in (run_dir / "checkpoints").iterdir())


def test_missing_folder_is_one_line_error(tmp_path) -> None:
    result = invoke("train", tmp_path / "nope", "--name", "x", "--models-dir", tmp_path)
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith("error:") and "does not exist" in lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--resolution", "48"], "resolution"),
        (["--loss", "bogus"], "loss"),
        (["--diffaugment", "flip"], "DiffAugment"),
        (["--name", "../escape"], "model name"),
    ],
)
def test_bad_option_is_one_line_error(digits_folder, tmp_path, args, message) -> None:
    result = invoke("train", digits_folder, "--name", "ok", "--models-dir", tmp_path / "m", *TINY, *args)
    assert result.exit_code == 1, result.output
    assert message.lower() in result.output.lower() and "Traceback" not in result.output


def test_train_saves_the_dataclass_defaults(digits_folder, tmp_path, monkeypatch) -> None:
    """No options: the saved net and train configs are NetConfig's and TrainConfig's defaults
    (the CLI once built g_width 32 while NetConfig said 64)."""
    monkeypatch.setattr(Trainer, "fit", lambda self, **kwargs: self.step)  # the config is under test, not 2,000 steps
    result = _train(digits_folder, tmp_path)
    assert result.exit_code == 0, result.output
    config = _config(_only_run(tmp_path))
    assert config["net"] == NetConfig(num_classes=3, channels=1).to_dict()  # the folder decides classes and channels
    assert config["train"] == TrainConfig().to_dict()
    assert config["data"]["channels_requested"] == "auto"


def test_train_writes_the_run_dir_then_resume_extends_it(digits_folder, tmp_path) -> None:
    result = _train(digits_folder, tmp_path, *TINY)
    assert result.exit_code == 0, result.output
    run_dir = _only_run(tmp_path)
    config = _config(run_dir)
    assert config["data"]["classes"] == ["0", "1", "2"] and config["net"]["channels"] == 1
    assert _checkpoints(run_dir) == ["step-0000000.pt", "step-0000001.pt", "step-0000002.pt"]
    assert (run_dir / "samples" / "step-0000002.png").is_file()
    holdout = json.loads((run_dir / "split.json").read_text())["holdout"]
    assert len(holdout) == 6 and {p.split("/")[0] for p in holdout} == {
        "0",
        "1",
        "2",
    }  # 3 + 2 + 1: at least 3, at most a quarter of 12, 8, 6

    result = _train(digits_folder, tmp_path, *TINY[2:], "--steps", "3", "--resume")  # the same options: accepted
    assert result.exit_code == 0, result.output
    assert "resuming at step 2" in result.output and "trained 1 steps" in result.output
    assert (run_dir / "checkpoints" / "step-0000003.pt").is_file()
    assert _only_run(tmp_path) == run_dir


def test_train_resume_refuses_every_option_that_differs_from_the_run(digits_folder, tmp_path) -> None:
    """`--resume` once kept the saved settings and dropped the new ones without a word."""
    assert _train(digits_folder, tmp_path, *TINY).exit_code == 0
    run_dir = _only_run(tmp_path)
    before = (_config(run_dir), _checkpoints(run_dir))
    result = _train(
        digits_folder,
        tmp_path,
        *TINY,
        "--steps",
        "4",
        "--resume",
        "--diffaugment",
        "translation",
        "--lr-g",
        "0.001",
        "--holdout",
        "0.2",
    )
    assert result.exit_code == 1, result.output
    (line,) = error_lines(result)
    assert line.startswith("error:") and "resume" in line
    for named in (
        "--diffaugment translation (run: translation,cutout)",
        "--lr-g 0.001 (run: 0.0002)",
        "--holdout 0.2 (run: 0.1)",
    ):
        assert named in line
    assert "--steps" not in line and "--g-width" not in line  # a new budget, and an unchanged value
    assert (_config(run_dir), _checkpoints(run_dir)) == before


def test_resume_continues_a_run_dir_with_its_settings(digits_folder, tmp_path) -> None:
    assert _train(digits_folder, tmp_path, *TINY).exit_code == 0
    run_dir = _only_run(tmp_path)
    result = invoke("resume", run_dir, "--steps", "3")
    assert result.exit_code == 0, result.output
    assert "resuming at step 2" in result.output and "step-0000003.png" in result.output
    assert _checkpoints(run_dir)[-1] == "step-0000003.pt" and _config(run_dir)["train"]["steps"] == 3
    again = invoke("resume", run_dir)  # no --steps: the run's own budget, already reached
    assert again.exit_code == 0 and "trained 0 steps" in again.output
    assert _checkpoints(run_dir)[-1] == "step-0000003.pt"


def test_resume_takes_no_option_that_would_change_the_run(tmp_path) -> None:
    for option in ("--lr-g", "--diffaugment", "--g-width", "--batch-size", "--seed"):
        result = invoke("resume", tmp_path, option, "1")
        assert result.exit_code == 2 and "No such option" in result.output, option


def test_resume_without_a_run_says_so(digits_folder, tmp_path) -> None:
    result = _train(digits_folder, tmp_path, "--resume")
    assert result.exit_code == 1 and "nothing to resume" in result.output
    result = invoke("resume", tmp_path)
    assert result.exit_code == 1 and error_lines(result)[0].startswith("error:") and "not a run dir" in result.output


def test_ctrl_c_exits_130_and_names_the_resume_command(digits_folder, tmp_path, monkeypatch) -> None:
    def interrupted(self, **kwargs):
        raise TrainingInterrupted(1)

    monkeypatch.setattr(Trainer, "fit", interrupted)
    result = _train(digits_folder, tmp_path, *TINY)
    assert result.exit_code == 130
    assert f"checkpoint saved at step 1; continue with `augment-gan resume {_only_run(tmp_path)}`" in result.output


def test_nproc_per_node_relaunches_the_same_command_under_torchrun(digits_folder, tmp_path, monkeypatch) -> None:
    assert _train(digits_folder, tmp_path, *TINY).exit_code == 0
    run_dir, launched = str(_only_run(tmp_path)), []

    def torchrun(cmd):
        launched.append(cmd)
        return type("Done", (), {"returncode": 3})()

    monkeypatch.setattr("subprocess.run", torchrun)
    monkeypatch.setattr("sys.argv", ["augment-gan", "resume", run_dir, "--steps", "9", "--nproc-per-node", "2"])
    result = invoke("resume", run_dir, "--steps", "9", "--nproc-per-node", "2")
    assert result.exit_code == 3  # torchrun's exit status
    (cmd,) = launched
    assert "--nproc-per-node=2" in cmd and cmd[-5:] == ["augment_gan.cli", "resume", run_dir, "--steps", "9"]
