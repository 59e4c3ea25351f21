from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from augment_gan.contracts.manifest import JOURNAL_NAME, MANIFEST_NAME
from augment_gan.data.folder import scan_folder
from augment_gan.errors import DataError


def _entry(path: str, index: int = 0) -> dict:
    """A complete manifest entry (the fields augment writes that readers check)."""
    return {"path": path, "sha256": "0" * 64, "class": path.split("/")[0], "seed": 0, "index": index}


def _manifest(root: Path, files: list[dict] | object, version: object = 1) -> None:
    (root / MANIFEST_NAME).write_text(json.dumps({"version": version, "files": files}))


def test_layout_rules(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    solid(root / "dog" / "b.png")
    solid(root / "dog" / "a.JPG")  # upper-case extension
    solid(root / "dog" / "deep" / "er" / "c.PnG")  # nested, mixed case
    solid(root / "dog" / ".hidden.png")  # hidden file
    solid(root / "dog" / ".thumbs" / "t.png")  # hidden folder
    (root / "dog" / "readme.txt").write_text("x")  # non-image extension
    solid(root / "dog" / "anim.gif")  # not a supported extension
    solid(root / "Cat" / "x.tiff")
    solid(root / "_misc" / "y.bmp")
    solid(root / ".git" / "z.png")  # hidden class folder
    solid(root / "root_level.png")  # files at the root are not in any class

    scan = scan_folder(root)

    assert scan.root == root.resolve()
    assert scan.classes == ["Cat", "_misc", "dog"]  # plain sorted(), like ImageFolder
    assert [f.rel for f in scan.files] == [
        "Cat/x.tiff",
        "_misc/y.bmp",
        "dog/a.JPG",
        "dog/b.png",
        "dog/deep/er/c.PnG",
    ]
    assert [f.class_name for f in scan.files] == ["Cat", "_misc", "dog", "dog", "dog"]
    assert scan.synthetic_excluded == 0
    for f in scan.files:
        assert f.path.is_absolute() and f.path == root.resolve() / f.rel
        st = f.path.stat()
        assert (f.size, f.mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_classes_match_torchvision_imagefolder(tmp_path: Path, solid) -> None:
    from torchvision.datasets import ImageFolder

    root = tmp_path / "ds"
    for name in ["b", "A", "a", "10", "9", "Z_z"]:
        solid(root / name / "img.png")
    assert scan_folder(root).classes == ImageFolder(str(root)).classes


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda r: None, "does not exist"),
        (lambda r: r.write_text("x"), "is not a folder"),
        (lambda r: (r.mkdir(parents=True), (r / "a.png").write_bytes(b"x")), "has no class sub-folders"),
        (lambda r: (r / ".cache").mkdir(parents=True), "has no class sub-folders"),
    ],
    ids=["missing", "file", "root-files-only", "hidden-dir-only"],
)
def test_unusable_root(tmp_path: Path, setup, message: str) -> None:
    root = tmp_path / "ds"
    setup(root)
    with pytest.raises(DataError, match=message):
        scan_folder(root)


def test_class_without_images(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    solid(root / "ok" / "a.png")
    (root / "empty").mkdir()
    (root / "empty" / "notes.txt").write_text("x")
    solid(root / "empty" / ".hidden.png")
    with pytest.raises(DataError, match=r"^class 'empty' has no images \(no files with extensions"):
        scan_folder(root)


def test_manifest_files_excluded(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    for rel in ["a/real1.png", "a/real2.png", "a/gen/g1.png", "b/real.png", "b/g2.png"]:
        solid(root / rel)
    _manifest(
        root,
        [
            _entry("a/gen/g1.png"),
            _entry("./b/g2.png", 1),
            _entry("b/deleted.png", 2),  # no longer on disk
        ],
    )
    scan = scan_folder(root)
    assert [f.rel for f in scan.files] == ["a/real1.png", "a/real2.png", "b/real.png"]
    assert scan.synthetic_excluded == 2

    everything = scan_folder(root, include_synthetic=True)
    assert [f.rel for f in everything.files] == ["a/gen/g1.png", "a/real1.png", "a/real2.png", "b/g2.png", "b/real.png"]
    assert everything.synthetic_excluded == 0


def test_class_with_only_generated_images(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    solid(root / "a" / "real.png")
    solid(root / "b" / "gen.png")
    _manifest(root, [_entry("b/gen.png")])
    with pytest.raises(DataError, match=r"^class 'b' has no images \(1 generated images excluded"):
        scan_folder(root)
    assert scan_folder(root, include_synthetic=True).classes == ["a", "b"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"version": 2, "files": []}),
        json.dumps({"version": 1, "files": {"a": 1}}),
        json.dumps({"version": 1, "files": [{"sha256": "x"}]}),
        json.dumps({"version": 1, "files": [{"path": 3}]}),
        json.dumps({"version": 1, "files": [{"path": "a/x.png"}]}),  # no sha256: not augment's
    ],
)
def test_malformed_manifest(tmp_path: Path, solid, content: str) -> None:
    root = tmp_path / "ds"
    solid(root / "a" / "x.png")
    (root / MANIFEST_NAME).write_text(content)
    with pytest.raises(DataError, match="manifest .* is malformed"):
        scan_folder(root)
    # Not read at all when generated files are wanted anyway.
    assert len(scan_folder(root, include_synthetic=True).files) == 1


def test_broken_symlink_is_listed_for_the_decoder(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    solid(root / "a" / "x.png")
    os.symlink(tmp_path / "missing.png", root / "a" / "y.png")
    scan = scan_folder(root)
    assert [(f.rel, f.size, f.mtime_ns) for f in scan.files][1] == ("a/y.png", -1, 0)


def test_symlink_cycle_does_not_hang(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    solid(root / "a" / "x.png")
    os.symlink(root / "a", root / "a" / "loop")
    assert [f.rel for f in scan_folder(root).files] == ["a/x.png"]


def test_files_an_interrupted_augment_intended_are_excluded(tmp_path: Path, solid) -> None:
    """The journal of a killed augment run counts like the manifest (its files are not real)."""
    root = tmp_path / "ds"
    for rel in ["a/real.png", "a/synthetic-m-v1-s0-000000.png", "a/synthetic-m-v1-s0-000001.png"]:
        solid(root / rel)
    _manifest(root, [_entry("a/synthetic-m-v1-s0-000000.png")])
    (root / JOURNAL_NAME).write_text(json.dumps({"file": _entry("a/synthetic-m-v1-s0-000001.png", 1)}) + '\n{"fi')
    scan = scan_folder(root)
    assert [f.rel for f in scan.files] == ["a/real.png"] and scan.synthetic_excluded == 2
