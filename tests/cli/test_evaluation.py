"""train --eval-every -> evaluate -> promote -> export, from the CLI, on a tiny run of real digits."""

import json
from pathlib import Path

import pytest

from augment_gan.contracts.model_dir import read_card, verify_file
from augment_gan.contracts.run_dir import RunDir
from tests.cli.helpers import FAST_EVAL, LENIENT, TINY, flat
from tests.cli.helpers import invoke as _invoke


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained + evaluated tiny run shared by this module's tests (they only read it,
    except promote, which adds model dirs beside it)."""
    from tests.conftest import make_digits_folder

    digits_folder = make_digits_folder(tmp_path_factory.mktemp("data"))
    models = tmp_path_factory.mktemp("models")
    result = _invoke(
        "train",
        digits_folder,
        "--name",
        "digits",
        "--models-dir",
        models,
        *TINY,
        "--holdout",
        "0.2",
        "--eval-every",
        "1",
        "--eval-samples",
        "12",
        *FAST_EVAL,
    )
    assert result.exit_code == 0, result.output
    assert "judge accuracy on held-out real images" in result.output
    assert "best checkpoint: step" in flat(result.output)
    assert "promote it with `augment-gan promote" in flat(result.output)
    (run,) = (models / "digits" / "runs").iterdir()
    return run


def test_eval_every_writes_reports_and_best(run_dir: Path) -> None:
    steps = sorted(p.name for p in (run_dir / "eval").glob("step-*.json"))
    assert steps == ["step-0000001.json", "step-0000002.json"]  # step 0 only when asked (pipeline's step0)
    report = json.loads((run_dir / "eval" / "step-0000002.json").read_text())
    assert set(report["classes"]) == {"0", "1", "2"}
    record = report["classes"]["2"]
    # 6 images: 1 held out, 2 of the other 5 train the judge; the other 4 are the reference
    assert record["n_fake"] == 12 and record["n_reference"] == 4 and record["reference"] == "judge-unseen"
    assert "gate" in report and "best_step" in open(run_dir / "metrics.jsonl").read()
    assert json.loads((run_dir / "eval" / "best.json").read_text())["step"] in (1, 2)


def _model_state(run_dir: Path) -> tuple[list[str], str | None]:
    model_root = run_dir.parents[1]
    promoted = model_root / "PROMOTED"
    return sorted(p.name for p in model_root.glob("v*")), promoted.read_text() if promoted.exists() else None


def test_untrained_step_is_rejected_and_nothing_promoted(run_dir: Path) -> None:
    before = _model_state(run_dir)
    result = _invoke("promote", run_dir, "--checkpoint", "0")
    assert result.exit_code == 1 and "step 0 has not been evaluated" in result.output  # train skips step 0
    assert "augment-gan evaluate" in result.output and _model_state(run_dir) == before
    assert _invoke("evaluate", run_dir, "--checkpoint", "0", "--samples", "12", *FAST_EVAL).exit_code == 0
    result = _invoke("promote", run_dir, "--checkpoint", "0")
    assert result.exit_code == 1
    assert "not promoted" in result.output and "class_consistency" in result.output
    assert "step 0: per-class metrics" in result.output  # the table, then the verdict
    assert _model_state(run_dir) == before
    assert RunDir(run_dir).report_path.is_file()


def test_promote_writes_a_verified_model_dir(run_dir: Path) -> None:
    result = _invoke("promote", run_dir, "--checkpoint", "2", *LENIENT)
    assert result.exit_code == 0, result.output
    versions, promoted = _model_state(run_dir)
    model_dir = run_dir.parents[1] / versions[-1]
    assert promoted.strip() == versions[-1]
    assert "promoted step 2 to" in result.output and "(3 of 3 classes pass: 0, 1, 2)" in flat(result.output)
    card = read_card(model_dir)
    assert card["classes"] == ["0", "1", "2"] and card["source"]["step"] == 2 and card["gate"]["ran"]
    assert card["gate"]["passed_classes"] == ["0", "1", "2"]
    assert card["metrics"]["per_class"]["1"]["n_reference"] >= 1
    verify_file(model_dir, card, "generator.onnx")
    html = (model_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "Metrics per class" in html


def test_evaluate_cli_prints_sample_sizes_and_json(run_dir: Path) -> None:
    result = _invoke("evaluate", run_dir, "--checkpoint", "1", "--samples", "10", *FAST_EVAL, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["step"] == 1 and report["classes"]["0"]["n_fake"] == 10
    assert 0.0 <= report["judge"]["accuracy"] <= 1.0


def test_export_writes_an_ungated_model_dir(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = _invoke("export", run_dir, "--out", out, "--checkpoint", "latest")
    assert result.exit_code == 0, result.output
    card = read_card(out)
    assert card["gate"] == {"ran": False} and card["source"]["step"] == 2
    verify_file(out, card, "generator.onnx")
    again = _invoke("export", run_dir, "--out", out)
    assert again.exit_code == 1 and "not empty" in again.output
