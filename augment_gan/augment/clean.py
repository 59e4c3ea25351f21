"""``clean``: remove exactly the generated files that are still as augment wrote them.

For each file the manifest records, or its journal intends (a killed run's; an intended
file that never got its name is forgotten): a file whose sha256 still matches is
removed; one edited since (different sha256), or no longer a plain file, is kept and
listed; a recorded one already gone is reported. Only paths of the form
``<class>/synthetic-...`` inside the folder are ever touched, whatever the manifest says;
a file whose class folder is a symlink resolving outside the folder is kept and listed
unless ``follow_links`` (augment wrote there only when told to).
The hidden temp files a killed run left (``<class>/.synthetic-*.tmp``, the manifest's
``.tmp``) are removed too. Then the manifest and journal are deleted, or, when edited files
were kept, the manifest is rewritten to list only those -- they stay out of real counts,
and a second ``clean`` lists them again. The noise streams are reset, so augmenting again
after a clean writes the same files as the first time. Folders augment created (``--out``)
are removed once empty. ``synthetic-`` files neither lists are reported, never removed.
"""

from __future__ import annotations

import enum
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from augment_gan.augment.errors import AugmentWriteError
from augment_gan.augment.lock import folder_lock
from augment_gan.contracts.manifest import SYNTHETIC_NAME, Manifest, is_synthetic_rel, leftover_temps
from augment_gan.contracts.model_dir import sha256_file
from augment_gan.errors import DataError


class CleanOutcome(enum.StrEnum):
    """What happened to the manifest (or would, in a dry run); its value is what ``--json`` shows."""

    REMOVED = "removed"  # nothing kept: manifest and journal deleted
    REWRITTEN = "rewritten"  # edited (or foreign) files kept: the manifest lists only those
    NONE = "none"  # there was no manifest


@dataclass
class CleanResult:
    root: Path
    dry_run: bool
    had_manifest: bool  # a manifest, or the journal of a killed run
    removed: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)
    kept_other: list[str] = field(default_factory=list)  # not a plain file, not a generated file's path, or outside
    gone: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    manifest: CleanOutcome = CleanOutcome.NONE
    temp_removed: list[str] = field(default_factory=list)  # a killed run's hidden temp files (not in to_dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "dry_run": self.dry_run,
            "had_manifest": self.had_manifest,
            "removed": self.removed,
            "kept_edited": self.kept_edited,
            "kept_other": self.kept_other,
            "gone": self.gone,
            "unrecorded_synthetic_files": self.unrecorded,
            "manifest": self.manifest.value,
        }


def _safe_rel(rel: str) -> bool:
    p = PurePosixPath(rel)
    return not p.is_absolute() and ".." not in p.parts and is_synthetic_rel(rel)


def clean_folder(root: str | Path, *, dry_run: bool = False, follow_links: bool = False) -> CleanResult:
    """Remove the manifest's unmodified generated files from ``root`` (a data or --out folder);
    files in a class folder that is a symlink resolving outside ``root`` only with ``follow_links``.

    Example::

        r = clean_folder("data/train")
        r.removed, r.kept_edited, r.gone
    """
    given = Path(root).expanduser()
    if not given.is_dir():
        raise DataError(f"{given} is not a folder; pass the folder augment wrote into (DATA_DIR or its --out).")
    folder = given.resolve()
    if dry_run:
        return _clean(folder, Manifest.load(folder), remove=False, follow_links=follow_links)
    with folder_lock(folder):
        return _clean(folder, Manifest.load(folder), remove=True, follow_links=follow_links)


def _clean(folder: Path, manifest: Manifest, *, remove: bool, follow_links: bool) -> CleanResult:
    result = CleanResult(folder, not remove, manifest.existed, temp_removed=leftover_temps(folder))
    if not manifest.existed:
        result.unrecorded = _unrecorded(folder, set())
        if remove:
            _remove_temps(folder, result)
        return result
    if not remove:
        _classify(folder, manifest, result, remove=False, follow_links=follow_links)
        return result
    try:
        _classify(folder, manifest, result, remove=True, follow_links=follow_links)
        _remove_temps(folder, result)
        _finish(folder, manifest, result)
    except BaseException as e:  # also Ctrl-C: the manifest keeps listing exactly what is left
        removed = set(result.removed)
        manifest.files = [x for x in manifest.files if x["path"] not in removed]
        try:
            manifest.save()
            note = f"{manifest.path} lists the rest"
        except OSError as e2:
            note = (
                f"{manifest.path} could not be rewritten either ({e2.strerror or e2}); a later clean "
                "reports the removed ones as gone"
            )
        if not isinstance(e, OSError):
            raise
        raise AugmentWriteError(
            f"cannot change {e.filename or folder}: {e.strerror or e}; "
            f"{len(removed)} file(s) were removed before that, {note}."
        ) from None
    return result


def _remove_temps(folder: Path, result: CleanResult) -> None:
    for rel in result.temp_removed:
        (folder / rel).unlink(missing_ok=True)


def _classify(folder: Path, manifest: Manifest, result: CleanResult, *, remove: bool, follow_links: bool) -> None:
    for entry in manifest.files:
        rel = entry["path"]
        path = folder / rel
        if not _safe_rel(rel) or not (follow_links or _inside(folder, path.parent)):
            result.kept_other.append(rel)
            continue
        try:
            st = path.lstat()
        except FileNotFoundError:
            result.gone.append(rel)
            continue
        if not stat.S_ISREG(st.st_mode):
            result.kept_other.append(rel)
        elif sha256_file(path) != entry["sha256"]:
            result.kept_edited.append(rel)
        else:
            if remove:
                path.unlink()
            result.removed.append(rel)
    kept = set(result.kept_edited) | set(result.kept_other)
    result.manifest = CleanOutcome.REWRITTEN if kept else CleanOutcome.REMOVED
    listed = {e["path"] for e in manifest.files}
    result.unrecorded = _unrecorded(folder, listed)


def _finish(folder: Path, manifest: Manifest, result: CleanResult) -> None:
    kept = set(result.kept_edited) | set(result.kept_other)
    if kept:
        manifest.files = [e for e in manifest.files if e["path"] in kept]
        manifest.streams = {}
        manifest.save()
    else:
        manifest.remove()
    remaining_dirs = []
    for rel in sorted(manifest.dirs, key=lambda d: -len(PurePosixPath(d).parts) if d != "." else 1):
        target = folder if rel == "." else folder / rel
        if not _inside(folder, target):
            continue
        try:
            target.rmdir()  # only succeeds when empty
        except OSError:
            remaining_dirs.append(rel)
    if kept and remaining_dirs != manifest.dirs:
        manifest.dirs = remaining_dirs
        manifest.save()


def _inside(folder: Path, target: Path) -> bool:
    try:
        return target.resolve() == folder or folder in target.resolve().parents
    except OSError:
        return False


def _unrecorded(folder: Path, listed: set[str]) -> list[str]:
    found = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        for name in sorted(os.listdir(entry.path)):
            rel = f"{entry.name}/{name}"
            if SYNTHETIC_NAME.match(name) and rel not in listed:
                found.append(rel)
    return found
