"""``augment-gan run``: the whole job on the user's folder (``augment-gan demo`` runs it on the digits)."""

import hashlib
from pathlib import Path

import pytest

from tests.cli.helpers import LENIENT_TOML, error_lines, flat, invoke

TINY_RUN = ["--steps", "2", "--batch-size", "4", "--checkpoint-every", "1", "--g-width", "4", "--d-width", "4",
            "--eval-samples", "12", "--judge-steps", "5"]


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def lenient(tmp_path: Path) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(LENIENT_TOML)
    return path


def test_run_with_out_promotes_and_balances_into_out(digits_folder, tmp_path, lenient) -> None:
    before, models, out = _tree(digits_folder), tmp_path / "models", tmp_path / "synthetic"
    result = invoke("run", digits_folder, "--name", "d", "--models-dir", models, *TINY_RUN, "--gate-file", lenient,
                    "--out", out, "--max-share", "0.5")
    assert result.exit_code == 0, result.output
    assert (models / "d" / "PROMOTED").read_text().strip() == "v1"
    written = {name: len(list((out / name).glob("synthetic-*"))) for name in ("0", "1", "2")}
    assert written == {"0": 0, "1": 4, "2": 6}  # up to 12 real images, capped at half synthetic
    assert _tree(digits_folder) == before
    assert f"undo with `augment-gan clean {out}`" in flat(result.output)


def test_run_without_out_prints_the_augment_command(digits_folder, tmp_path, lenient) -> None:
    before = _tree(digits_folder)
    result = invoke("run", digits_folder, "--name", "d", "--models-dir", tmp_path / "models", *TINY_RUN,
                    "--gate-file", lenient)
    assert result.exit_code == 0, result.output
    model_dir = tmp_path / "models" / "d" / "v1"
    command = f"`augment-gan augment {digits_folder} --model {model_dir} --max-share 0.25 --out DIR`"
    assert command in flat(result.output)
    assert _tree(digits_folder) == before


def test_run_that_promotes_nothing_exits_1(digits_folder, tmp_path) -> None:
    result = invoke("run", digits_folder, "--name", "d", "--models-dir", tmp_path / "models", *TINY_RUN)
    assert result.exit_code == 1, result.output  # two steps never pass the default gate
    assert error_lines(result)[-1].startswith("not promoted: no class of step 2 passed the gate")
    assert not (tmp_path / "models" / "d" / "PROMOTED").exists()
