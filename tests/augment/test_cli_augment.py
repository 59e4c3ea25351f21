"""The augment and clean commands: plan table, --dry-run, --json, errors as one line, exit codes."""

from __future__ import annotations

import errno
import json

from typer.testing import CliRunner

from augment_gan.augment import writer
from augment_gan.cli import app
from tests.augment.conftest import synthetic_files, tree

runner = CliRunner()


def one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.output and lines[-1].startswith("error:"), result.output
    joined = " ".join(lines)
    assert all(n in joined for n in needles), result.stderr


def test_dry_run_writes_nothing_and_json_parses(digits_folder, model_dir) -> None:
    before = tree(digits_folder)
    args = ["augment", str(digits_folder), "--model", str(model_dir), "--dry-run"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout and "would be written" in result.stdout
    result = runner.invoke(app, [*args, "--json", "--target", "ratio:0.9", "--max-share", "0.25"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dry_run"] is True and doc["plan"]["target"] == {"spec": "ratio:0.9", "count": 11}
    assert [(c["name"], c["generate"], c["share_after"]) for c in doc["plan"]["classes"]] == [
        ("0", 0, 0.0),
        ("1", 2, 0.2),
        ("2", 2, 0.25),
    ]
    assert tree(digits_folder) == before


def test_run_by_model_name_then_clean(digits_folder, model_dir) -> None:
    models = model_dir.parent.parent
    args = ["augment", str(digits_folder), "--model", "tiny0", "--models-dir", str(models), "--classes", "2"]
    args += ["--max-share", "1"]  # no cap: fill to the top
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "wrote 6 file(s)" in result.stdout and "not selected" in result.stdout
    assert "more than half synthetic" not in result.stderr  # 6 of 12: exactly half
    result = runner.invoke(app, [*args, "--json", "--target", "20"])
    doc = json.loads(result.stdout)
    assert doc["summary"]["written"] == 8 and doc["summary"]["classes"]["2"]["share"] == 0.7
    assert "more than half synthetic" in result.stderr and "--max-share" in result.stderr
    assert "BalancedDataset" in result.stderr
    result = runner.invoke(app, ["clean", str(digits_folder), "--json"])
    assert result.exit_code == 0 and len(json.loads(result.stdout)["removed"]) == 14
    assert json.loads(result.stdout)["manifest"] == "removed"
    assert synthetic_files(digits_folder) == {}


def test_ungated_model_is_refused_with_a_one_line_error(digits_folder, make_model) -> None:
    model = make_model(ungated=True)
    result = runner.invoke(app, ["augment", str(digits_folder), "--model", str(model)])
    one_line_error(result, "without the quality gate", "--allow-ungated")
    result = runner.invoke(app, ["augment", str(digits_folder), "--model", str(model), "--allow-ungated"])
    assert result.exit_code == 0 and "without the quality gate" in result.stderr


def test_gate_failure_is_a_visible_warning(digits_folder, make_model) -> None:
    model = make_model(failed={"1": ["class_consistency 0.4 < 0.8 (n=8)"]})
    result = runner.invoke(app, ["augment", str(digits_folder), "--model", str(model), "--dry-run"])
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "class_consistency 0.4 < 0.8" in result.stderr


def test_full_disk_and_interrupt_exit_codes(digits_folder, model_dir, monkeypatch) -> None:
    real_publish, calls = writer.publish, []

    def failing(tmp, path):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        if len(calls) == 6:
            raise KeyboardInterrupt
        real_publish(tmp, path)

    monkeypatch.setattr(writer, "publish", failing)
    args = ["augment", str(digits_folder), "--model", str(model_dir), "--max-share", "1"]
    one_line_error(runner.invoke(app, args), "No space left on device", "2 file(s)")
    result = runner.invoke(app, args)
    assert result.exit_code == 130 and "interrupted: 2 file(s) written" in result.stderr
    assert len(synthetic_files(digits_folder)) == 4
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["summary"]["written"] == 6


def test_bad_target_and_missing_model_are_one_line_errors(digits_folder, tmp_path) -> None:
    one_line_error(
        runner.invoke(app, ["augment", str(digits_folder), "--model", "nope", "--models-dir", str(tmp_path)]), "nope"
    )
    one_line_error(runner.invoke(app, ["clean", str(tmp_path / "missing")]), "not a folder")
