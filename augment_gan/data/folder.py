"""Scanning an image folder laid out like torchvision's ``ImageFolder`` (no decoding).

Layout: ``ROOT/<class>/**/<image>``. The class of an image is the first-level sub-folder
it lives under; images may sit any depth below it. Hidden names (starting with ``.``) are
ignored at every level, and so are files directly in ``ROOT``.

Generated images are tracked in ``ROOT/.augment-gan-manifest.json`` (a hidden *file*: a
hidden folder would still be picked up as a class by torchvision's ``ImageFolder``). Files
listed there are excluded by default so class deficits are computed from real images only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from augment_gan.errors import DataError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
)
MANIFEST_NAME = ".augment-gan-manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    """One candidate image file found by :func:`scan_folder`.

    ``size`` is -1 (and ``mtime_ns`` 0) when the file cannot be stat'ed, e.g. a broken
    symlink; it is still listed so the decoder reports it as skipped instead of it
    silently disappearing.
    """

    path: Path
    rel: str
    class_name: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FolderScan:
    """Result of :func:`scan_folder`: classes in ``ImageFolder`` order and their files."""

    root: Path
    classes: list[str]
    files: list[FileEntry]
    synthetic_excluded: int


def is_image_name(name: str) -> bool:
    """Return True when ``name`` has one of :data:`IMAGE_EXTENSIONS` (any case)."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def read_manifest_paths(root: str | os.PathLike[str]) -> frozenset[str]:
    """Return the relative posix paths listed in ``ROOT/.augment-gan-manifest.json``.

    A missing manifest means no generated files (empty set); a malformed one raises
    :class:`DataError`, because silently treating generated images as real would skew
    every class count computed afterwards.
    """
    manifest = Path(root) / MANIFEST_NAME
    if not manifest.exists():
        return frozenset()

    def bad(why: str) -> DataError:
        return DataError(
            f"The manifest {manifest} is malformed ({why}); restore it from the augment run "
            "or delete it (generated images it listed will then count as real ones)."
        )

    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"cannot read it as JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise bad("top level is not an object")
    if doc.get("version") != MANIFEST_VERSION:
        raise bad(f"expected version {MANIFEST_VERSION}, found {doc.get('version')!r}")
    files = doc.get("files")
    if not isinstance(files, list):
        raise bad("'files' is not a list")
    paths: set[str] = set()
    for i, item in enumerate(files):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise bad(f"entry {i} has no string 'path'")
        paths.add(PurePosixPath(item["path"]).as_posix())
    return frozenset(paths)


def _class_dirs(root: Path) -> list[str]:
    # Plain sorted() of names: identical to torchvision's find_classes, so label indices
    # match what the user's ImageFolder-based classifier uses.
    with os.scandir(root) as it:
        return sorted(e.name for e in it if not e.name.startswith(".") and e.is_dir())


def _walk_class(root: Path, class_name: str) -> list[tuple[str, Path]]:
    """Return (rel posix path, absolute path) of every image file below one class folder."""
    found: list[tuple[str, Path]] = []
    visited: set[str] = set()
    # followlinks=True like torchvision; the realpath set stops symlink cycles.
    for dirpath, dirnames, filenames in os.walk(root / class_name, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in visited:
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or not is_image_name(name):
                continue
            abs_path = Path(dirpath) / name
            found.append((abs_path.relative_to(root).as_posix(), abs_path))
    return found


def scan_folder(
    root: str | os.PathLike[str], *, include_synthetic: bool = False
) -> FolderScan:
    """List the image files of a class-per-sub-folder dataset without decoding them.

    Args:
        root: the data folder (``ROOT/<class>/**/<image>``).
        include_synthetic: keep files listed in the augment manifest (default: exclude
            them and count them in ``FolderScan.synthetic_excluded``).

    Raises:
        DataError: the root is missing, not a folder, has no class sub-folders, a class
            has no image files, or the manifest is malformed.
    """
    given = Path(root).expanduser()
    if not given.exists():
        raise DataError(
            f"Data folder {given} does not exist; pass a folder with one sub-folder per class."
        )
    if not given.is_dir():
        raise DataError(
            f"Data path {given} is not a folder; pass a folder with one sub-folder per class."
        )
    root_path = given.resolve()
    classes = _class_dirs(root_path)
    if not classes:
        raise DataError(
            f"Data folder {root_path} has no class sub-folders; put each class's images in "
            "its own sub-folder (ROOT/<class>/<image>)."
        )
    synthetic = frozenset() if include_synthetic else read_manifest_paths(root_path)

    files: list[FileEntry] = []
    excluded_total = 0
    for class_name in classes:
        kept = 0
        excluded = 0
        for rel, abs_path in sorted(_walk_class(root_path, class_name)):
            if rel in synthetic:
                excluded += 1
                continue
            try:
                st = abs_path.stat()
                size, mtime_ns = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime_ns = -1, 0
            files.append(FileEntry(abs_path, rel, class_name, size, mtime_ns))
            kept += 1
        if kept == 0:
            detail = f"{excluded} generated images excluded" if excluded else "no files"
            exts = ", ".join(sorted(IMAGE_EXTENSIONS))
            raise DataError(
                f"class '{class_name}' has no images ({detail} with extensions {exts} "
                f"under {root_path / class_name}); add real images or remove the folder."
            )
        excluded_total += excluded
    return FolderScan(root_path, classes, files, excluded_total)
