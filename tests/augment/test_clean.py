"""clean: removes exactly the manifest's unmodified generated files, keeps edits, reports the rest."""

from __future__ import annotations

import json

from augment_gan.augment import CleanOutcome, augment_folder, clean_folder
from augment_gan.contracts.manifest import MANIFEST_NAME
from augment_gan.data.folder import scan_folder
from tests.augment.conftest import load, synthetic_files, tree


def test_clean_removes_exactly_the_unmodified_generated_files(digits_folder, model_dir) -> None:
    before = tree(digits_folder)
    augment_folder(digits_folder, load(model_dir), max_share=1)
    generated = sorted(synthetic_files(digits_folder))
    edited, deleted = generated[0], generated[1]
    (digits_folder / edited).write_bytes((digits_folder / edited).read_bytes() + b"edited")
    (digits_folder / deleted).unlink()
    (digits_folder / "1" / "mine.png").write_bytes((digits_folder / generated[2]).read_bytes())  # the user's
    stray = "2/synthetic-other-v3-s1-000000.png"
    (digits_folder / stray).write_bytes(b"not listed")

    preview = clean_folder(digits_folder, dry_run=True)
    snapshot = tree(digits_folder)
    result = clean_folder(digits_folder)
    assert preview.to_dict() | {"dry_run": False} == result.to_dict()
    assert sorted(result.removed) == sorted(set(generated) - {edited, deleted})
    assert result.kept_edited == [edited] and result.gone == [deleted] and result.unrecorded == [stray]
    assert result.manifest is CleanOutcome.REWRITTEN and result.manifest == "rewritten"
    after = tree(digits_folder)
    assert {k for k in snapshot if k not in after} == set(result.removed)  # nothing else touched
    assert all(after[k] == v for k, v in before.items() if k in after)
    # the kept edited file stays listed, so it is still not counted as a real image
    assert [e["path"] for e in json.loads((digits_folder / MANIFEST_NAME).read_text())["files"]] == [edited]
    assert "1/mine.png" in {f.rel for f in scan_folder(digits_folder).files}
    assert edited not in {f.rel for f in scan_folder(digits_folder).files}
    again = clean_folder(digits_folder)
    assert again.removed == [] and again.kept_edited == [edited]


def test_clean_after_a_kill_removes_journaled_files_and_temps(digits_folder, model_dir) -> None:
    from tests.augment.test_augment import kill_before_the_manifest

    before = tree(digits_folder)
    augment_folder(digits_folder, load(model_dir), max_share=1)
    generated = sorted(synthetic_files(digits_folder))
    tail = kill_before_the_manifest(digits_folder, 3)
    edited = tail[0]["path"]  # edited after the kill: not provably ours any more
    (digits_folder / edited).write_bytes(b"edited")
    preview = clean_folder(digits_folder, dry_run=True)
    assert len(preview.temp_removed) == 1 and tree(digits_folder)[preview.temp_removed[0]]
    result = clean_folder(digits_folder)
    assert sorted(result.removed) == sorted(set(generated) - {edited}) and result.kept_edited == [edited]
    assert (
        result.gone == [] and result.manifest is CleanOutcome.REWRITTEN and result.to_dict()["manifest"] == "rewritten"
    )
    assert [e["path"] for e in json.loads((digits_folder / MANIFEST_NAME).read_text())["files"]] == [edited]
    (digits_folder / edited).unlink()
    assert clean_folder(digits_folder).gone == [edited]
    assert tree(digits_folder) == before


def test_dry_run_removes_nothing_and_clean_without_manifest_is_a_no_op(digits_folder, model_dir) -> None:
    assert clean_folder(digits_folder).had_manifest is False
    augment_folder(digits_folder, load(model_dir), max_share=1)
    snapshot = tree(digits_folder)
    assert len(clean_folder(digits_folder, dry_run=True).removed) == 10
    assert tree(digits_folder) == snapshot
    assert len(clean_folder(digits_folder).removed) == 10 and clean_folder(digits_folder).had_manifest is False


def test_clean_out_folder_removes_the_folders_augment_created(digits_folder, model_dir, tmp_path) -> None:
    out = tmp_path / "new" / "synthetic"
    augment_folder(digits_folder, load(model_dir), out=out, max_share=1)
    assert clean_folder(out).manifest == "removed"
    assert not out.exists() and (tmp_path / "new").is_dir()  # only what augment created
    # after a clean, augmenting again writes the same files as the first time
    augment_folder(digits_folder, load(model_dir), max_share=1)
    first = synthetic_files(digits_folder)
    clean_folder(digits_folder)
    augment_folder(digits_folder, load(model_dir), max_share=1)
    assert synthetic_files(digits_folder) == first


def test_clean_never_touches_paths_outside_the_generated_layout(digits_folder, model_dir) -> None:
    augment_folder(digits_folder, load(model_dir), max_share=1)
    doc = json.loads((digits_folder / MANIFEST_NAME).read_text())
    real = "0/" + sorted(p.name for p in (digits_folder / "0").iterdir())[0]
    from augment_gan.contracts.model_dir import sha256_file

    doc["files"].append({**doc["files"][0], "path": real, "sha256": sha256_file(digits_folder / real)})
    (digits_folder / MANIFEST_NAME).write_text(json.dumps(doc))
    result = clean_folder(digits_folder)
    assert result.kept_other == [real] and (digits_folder / real).is_file()


def test_a_failing_removal_is_a_clear_error_and_the_manifest_lists_the_rest(
    digits_folder, model_dir, monkeypatch
) -> None:
    import errno
    from pathlib import Path

    import pytest

    from augment_gan.augment import AugmentWriteError

    augment_folder(digits_folder, load(model_dir), max_share=1)
    real_unlink, calls = Path.unlink, []

    def unlink(self, missing_ok=False):
        if self.name.startswith("synthetic-"):
            calls.append(self)
            if len(calls) == 4:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(AugmentWriteError, match="Permission denied.*3 file"):
        clean_folder(digits_folder)
    listed = {e["path"] for e in json.loads((digits_folder / MANIFEST_NAME).read_text())["files"]}
    assert listed == set(synthetic_files(digits_folder)) and len(listed) == 7
