import json

from typer.testing import CliRunner

from augment_gan.cli import app

runner = CliRunner()

TINY = ["--steps", "2", "--batch-size", "4", "--g-width", "4", "--d-width", "4", "--latent-dim", "8",
        "--checkpoint-every", "1"]


def test_inspect_json_reports_counts_and_skips(digits_folder) -> None:
    (digits_folder / "1" / "broken.png").write_bytes(b"not a png")
    result = runner.invoke(app, ["inspect", str(digits_folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["classes"] == {"0": 12, "1": 8, "2": 6}
    assert report["imbalance_ratio"] == 2.0
    assert [s["path"] for s in report["skipped"]] == ["1/broken.png"]
    assert "cannot identify" in report["skipped"][0]["reason"]


def test_inspect_strict_fails_on_a_bad_file(digits_folder) -> None:
    (digits_folder / "1" / "empty.png").write_bytes(b"")
    result = runner.invoke(app, ["inspect", str(digits_folder), "--strict"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "error:" in result.output


def test_missing_folder_is_one_line_error(tmp_path) -> None:
    result = runner.invoke(app, ["train", str(tmp_path / "nope"), "--name", "x", "--models-dir", str(tmp_path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "does not exist" in lines[0]


def test_bad_option_is_one_line_error(digits_folder, tmp_path) -> None:
    for args, message in [
        (["--resolution", "48"], "resolution"),
        (["--loss", "bogus"], "loss"),
        (["--diffaugment", "flip"], "DiffAugment"),
        (["--name", "../escape"], "model name"),
    ]:
        argv = ["train", str(digits_folder), "--name", "ok", "--models-dir", str(tmp_path / "m"), *TINY, *args]
        result = runner.invoke(app, argv)
        assert result.exit_code == 1, (args, result.output)
        assert message.lower() in result.output.lower() and "Traceback" not in result.output


def test_train_writes_the_run_dir_then_resume_extends_it(digits_folder, tmp_path) -> None:
    models = tmp_path / "models"
    argv = ["train", str(digits_folder), "--name", "digits", "--models-dir", str(models), *TINY]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    (run_dir,) = (models / "digits" / "runs").iterdir()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["data"]["classes"] == ["0", "1", "2"] and config["net"]["channels"] == 1
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "step-0000000.pt", "step-0000001.pt", "step-0000002.pt"]
    assert (run_dir / "samples" / "step-0000002.png").is_file()
    holdout = json.loads((run_dir / "split.json").read_text())["holdout"]
    assert len(holdout) == 3 and {p.split("/")[0] for p in holdout} == {"0", "1", "2"}

    result = runner.invoke(app, [*argv[:-len(TINY)], "--steps", "3", "--resume"])
    assert result.exit_code == 0, result.output
    assert "resuming at step 2" in result.output
    assert (run_dir / "checkpoints" / "step-0000003.pt").is_file()
    assert len(list((models / "digits" / "runs").iterdir())) == 1


def test_resume_without_a_run_says_so(digits_folder, tmp_path) -> None:
    result = runner.invoke(app, ["train", str(digits_folder), "--name", "new", "--models-dir", str(tmp_path),
                                 "--resume"])
    assert result.exit_code == 1 and "nothing to resume" in result.output
