"""The augment manifest contract: parsing, the crash journal and its folding, generated paths, temps."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from augment_gan.contracts.manifest import (
    JOURNAL_NAME,
    MANIFEST_NAME,
    MANIFEST_TEMP,
    SYNTHETIC_TEMP,
    Journal,
    Manifest,
    RecordKind,
    fold,
    generated_paths,
    is_synthetic_rel,
    leftover_temps,
    new_entry,
    parse_journal,
    synthetic_name,
)
from augment_gan.errors import DataError


def entry(cls: str, index: int, sha: str = "a" * 64) -> dict:
    return new_entry(f"{cls}/{synthetic_name('m', 1, 0, index, 'png')}", sha, cls, "m", 1, 0, index)


def journal_line(kind: str, value: object) -> bytes:
    return (json.dumps({kind: value}) + "\n").encode()


def write_manifest(root: Path, files: list[dict], **extra: object) -> None:
    (root / MANIFEST_NAME).write_text(json.dumps({"version": 1, "files": files, **extra}))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        (tmp_path / cls / "real.png").write_bytes(b"real")
    return tmp_path


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (json.dumps([1]).encode(), "version 1"),
        (json.dumps({"version": 2, "files": []}).encode(), "version 1"),
        (json.dumps({"version": 1, "files": [{"path": "a/x.png"}]}).encode(), "entry 0 lacks"),
        (json.dumps({"version": 1, "files": [{**entry("a", 0), "index": True}]}).encode(), "entry 0 lacks"),
        (json.dumps({"version": 1, "files": [], "streams": [{"class": "a"}]}).encode(), "'streams' entry"),
    ],
)
def test_a_malformed_manifest_is_a_one_line_data_error(folder: Path, content: bytes, why: str) -> None:
    (folder / MANIFEST_NAME).write_bytes(content)
    for read in (Manifest.load, generated_paths):
        with pytest.raises(DataError, match=f"manifest .* is malformed .*{why}") as info:
            read(folder)
        assert "\n" not in str(info.value) and "restore it or delete it" in str(info.value)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"file": {"path": "a/x.png"}}\n', "line 1: a file record lacks"),
        (b'{"dir": 3}\n', "line 1: a dir record is not a path"),
        (b'{"rename": "a"}\n', "line 1: unknown record 'rename'"),
        (b'{"dir": "a", "file": "b"}\n', "line 1: expected an object with one key"),
        (b'{"dir": "a"}\n{torn\n{"dir": "b"}\n', "line 2 is not JSON"),  # garbage that is not the tail
    ],
)
def test_a_malformed_journal_is_a_one_line_data_error(folder: Path, content: bytes, why: str) -> None:
    (folder / JOURNAL_NAME).write_bytes(content)
    with pytest.raises(DataError, match=f"augment journal .* is malformed \\({why}") as info:
        Manifest.load(folder)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("tail", [b'{"file": {"path": "a/syn', b"\x00" * 40, b'{"file": \xff\xfe', b"\n\x00\x00\n\x00"])
def test_a_torn_last_append_is_ignored(tail: bytes) -> None:
    e = entry("a", 0)
    records = parse_journal(journal_line("file", e) + tail, Path("j"))
    assert records == [(RecordKind.FILE, e)]


def test_fold_records_intended_files_that_exist_and_forgets_the_rest(folder: Path) -> None:
    kept, never_linked, taken, recorded = entry("a", 4), entry("a", 5), entry("b", 0), entry("b", 1)
    for e in (kept, taken, recorded):
        (folder / e["path"]).write_bytes(b"x")
    records = parse_journal(
        b"".join(
            [
                journal_line("file", kept),
                journal_line("file", never_linked),
                journal_line("file", taken),
                journal_line("dropped", taken["path"]),
                journal_line("file", recorded),
                journal_line("dir", "b"),
                journal_line("dir", "gone-dir"),
            ]
        ),
        Path("j"),
    )
    files, streams, dirs = [recorded], {}, []

    def exists(rel: str) -> bool:
        return (folder / rel).exists()

    fold(files, streams, dirs, records, exists)
    assert files == [recorded, kept]  # the recorded one is not repeated
    assert streams == {("a", "m", "1", 0): 5}  # past the newly recorded file (the manifest had the rest)
    assert dirs == ["b"]
    fold(files, streams, dirs, records, exists)  # idempotent: a crash after saving, before dropping the journal
    assert files == [recorded, kept] and dirs == ["b"]


def test_journal_then_save_then_load(folder: Path) -> None:
    first, second = entry("a", 0), entry("a", 1)
    write_manifest(folder, [first])
    (folder / first["path"]).write_bytes(b"1")
    (folder / second["path"]).write_bytes(b"2")
    loaded = Manifest.load(folder)
    assert not loaded.journal_pending and loaded.existed
    with Journal(folder) as journal:
        journal.append([Journal.intent(second), Journal.intent(entry("a", 2))])  # index 2 never got its name
    assert loaded.changed_on_disk()  # another process's append is noticed
    m = Manifest.load(folder)
    assert m.journal_pending and [e["path"] for e in m.files] == [first["path"], second["path"]]
    assert m.stream_next(("a", "m", "1", 0)) == 2
    m.save()
    assert not (folder / JOURNAL_NAME).exists() and not m.changed_on_disk()
    assert Manifest.load(folder).files == m.files
    m.remove()
    assert not (folder / MANIFEST_NAME).exists() and not Manifest.load(folder).existed


def test_a_journal_alone_is_something_to_clean(folder: Path) -> None:
    e = entry("b", 3)
    (folder / e["path"]).write_bytes(b"x")
    (folder / JOURNAL_NAME).write_bytes(journal_line("file", e))
    m = Manifest.load(folder)
    assert m.existed and m.raw is None and [x["path"] for x in m.files] == [e["path"]]


def test_generated_paths_are_recorded_and_intended_ones(folder: Path) -> None:
    assert generated_paths(folder) == frozenset()
    write_manifest(folder, [{**entry("a", 0), "path": "./a/synthetic-m-v1-s0-000000.png"}])
    (folder / JOURNAL_NAME).write_bytes(journal_line("file", entry("b", 7)) + b'{"fi')
    # intended ones count whether or not they exist yet: a scan during a run must not count them as real
    assert generated_paths(folder) == {"a/synthetic-m-v1-s0-000000.png", "b/synthetic-m-v1-s0-000007.png"}


def test_leftover_temps_are_only_augments_own(folder: Path) -> None:
    staged = ".synthetic-m-v1-s0-000003.png.0a1b2c3d.tmp"
    (folder / "a" / staged).write_bytes(b"half")
    fd, manifest_tmp = tempfile.mkstemp(dir=folder, prefix=f".{MANIFEST_NAME}.", suffix=".tmp")  # as fileio does
    Path(manifest_tmp).write_bytes(b"{")
    for rel in ("a/.DS_Store", "a/.notes.tmp", "b/.synthetic-notes.tmp", ".other.json.x.tmp", "a/sub/" + staged):
        (folder / rel).parent.mkdir(exist_ok=True)
        (folder / rel).write_bytes(b"user's")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / staged).write_bytes(b"not a class")
    assert leftover_temps(folder) == sorted([Path(manifest_tmp).name, f"a/{staged}"])
    assert SYNTHETIC_TEMP.match(staged) and MANIFEST_TEMP.match(Path(manifest_tmp).name)


def test_only_class_level_synthetic_names_are_generated_paths() -> None:
    assert is_synthetic_rel("cat/synthetic-pets-v2-s0-000004.png")
    for rel in (
        "cat/photo.png",
        "synthetic-pets-v2-s0-000004.png",
        "cat/sub/synthetic-pets-v2-s0-000004.png",
        ".hidden/synthetic-pets-v2-s0-000004.png",
        "../synthetic-pets-v2-s0-000004.png",
        "/cat/synthetic-pets-v2-s0-000004.png",
    ):
        assert not is_synthetic_rel(rel), rel
