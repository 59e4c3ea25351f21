"""``augment-gan inspect``: the report of augment_gan.data.summary.inspect, as JSON or a table."""

import json

from augment_gan.data.summary import inspect
from tests.cli.helpers import invoke


def test_inspect_json_reports_counts_and_skips(digits_folder) -> None:
    (digits_folder / "1" / "broken.png").write_bytes(b"not a png")
    result = invoke("inspect", digits_folder, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["classes"] == {"0": 12, "1": 8, "2": 6}
    assert report["imbalance_ratio"] == 2.0
    assert [s["path"] for s in report["skipped"]] == ["1/broken.png"]
    assert "cannot identify" in report["skipped"][0]["reason"]


def test_inspect_prints_what_its_library_twin_returns(digits_folder) -> None:
    result = invoke("inspect", digits_folder, "--json")
    assert json.loads(result.stdout) == inspect(digits_folder, progress=False)
    table = invoke("inspect", digits_folder)
    assert table.exit_code == 0 and "26 images, 3 classes" in table.stdout and "imbalance 2.0x" in table.stdout


def test_inspect_strict_fails_on_a_bad_file(digits_folder) -> None:
    (digits_folder / "1" / "empty.png").write_bytes(b"")
    result = invoke("inspect", digits_folder, "--strict")
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "error:" in result.output


def test_brackets_in_paths_and_class_names_print_as_written(digits_folder, tmp_path) -> None:
    # The CLI's consoles read no markup: "[old]" used to vanish and "[/v2]" to crash rich.
    import shutil

    folder = tmp_path / "set [/v2]"
    shutil.copytree(digits_folder, folder)
    (folder / "1").rename(folder / "cat [old]")
    (folder / "cat [old]" / "broken [b].png").write_bytes(b"not a png")
    table = invoke("inspect", folder)
    assert table.exit_code == 0, table.output
    assert "set [/v2]" in table.stdout and "cat [old]" in table.stdout and "broken [b].png" in table.stdout
    missing = invoke("inspect", tmp_path / "gone [/x]")
    assert missing.exit_code != 0
    assert "gone [/x]" in missing.output and "Traceback" not in missing.output
