"""Scanning an image folder laid out like torchvision's ``ImageFolder`` (no decoding).

Layout: ``ROOT/<class>/**/<image>``. The class of an image is the first-level sub-folder
it lives under; images may sit any depth below it. Hidden names (starting with ``.``) are
ignored at every level, and so are files directly in ``ROOT``.

Generated images are those the augment manifest records or intends
(:func:`augment_gan.contracts.manifest.generated_paths`, the format's one owner); they are
excluded by default so class deficits are computed from real images only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from augment_gan.contracts.manifest import generated_paths
from augment_gan.errors import DataError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


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


def scan_folder(root: str | os.PathLike[str], *, include_synthetic: bool = False) -> FolderScan:
    """List the image files of a class-per-sub-folder dataset without decoding them.

    Args:
        root: the data folder (``ROOT/<class>/**/<image>``).
        include_synthetic: keep the files augment generated (default: exclude them and
            count them in ``FolderScan.synthetic_excluded``).

    Raises:
        DataError: the root is missing, not a folder, has no class sub-folders, a class
            has no image files, or the manifest is malformed.
    """
    given = Path(root).expanduser()
    if not given.exists():
        raise DataError(f"Data folder {given} does not exist; pass a folder with one sub-folder per class.")
    if not given.is_dir():
        raise DataError(f"Data path {given} is not a folder; pass a folder with one sub-folder per class.")
    root_path = given.resolve()
    classes = _class_dirs(root_path)
    if not classes:
        raise DataError(
            f"Data folder {root_path} has no class sub-folders; put each class's images in "
            "its own sub-folder (ROOT/<class>/<image>)."
        )
    synthetic = frozenset() if include_synthetic else generated_paths(root_path)

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
