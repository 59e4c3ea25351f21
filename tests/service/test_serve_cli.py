"""`augment-gan serve` refuses what it must before starting any server."""

from typer.testing import CliRunner

from augment_gan.cli import app

runner = CliRunner()


def test_serve_without_a_promoted_model_is_a_clear_error(tmp_path) -> None:
    result = runner.invoke(app, ["serve", "--models-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "no promoted models" in result.output and "--model" in result.output


def test_serve_refuses_an_ungated_model_dir(tmp_path) -> None:
    import json

    model_dir = tmp_path / "exported"
    model_dir.mkdir()
    (model_dir / "card.json").write_text(json.dumps({"format": 1, "name": "m", "version": 1, "gate": {"ran": False}}))
    result = runner.invoke(app, ["serve", "--model", str(model_dir)])
    assert result.exit_code == 1 and "--allow-ungated" in result.output
