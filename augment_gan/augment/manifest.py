"""The augment manifest, generated file names, and the folder lock.

The manifest is the hidden file ``ROOT/.augment-gan-manifest.json`` (``ROOT`` is the data
folder, or the ``--out`` folder), written atomically::

    {"version": 1,
     "files": [{"path": "cat/synthetic-pets-v2-s0-000004.png", "sha256": "...", "class": "cat",
                "model": "pets", "model_version": 2, "seed": 0, "index": 4,
                "created": "2025-01-01T12:00:00Z"}, ...],
     "streams": [{"class": "cat", "model": "pets", "model_version": 2, "seed": 0, "next_index": 5}],
     "dirs": ["cat"]}

``files`` is what the folder scanner reads (:func:`augment_gan.data.folder.read_manifest_paths`)
to keep generated images out of real counts. ``streams`` remembers the next noise index
of each (class, model, version, seed), so a file deleted by hand is not generated again by
a top-up. ``dirs`` lists folders augment created (``--out``), which ``clean`` removes once
empty.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from augment_gan.data.folder import MANIFEST_NAME, MANIFEST_VERSION
from augment_gan.errors import AugmentGanError, DataError
from augment_gan.fileio import atomic_write_bytes

# synthetic-<model>-v<version>-s<seed>-<index>.<ext>; the model name and version may hold '-'.
SYNTHETIC_NAME = re.compile(r"^synthetic-.+-v.+-s\d+-\d+\.(?:png|jpg)$")
_INDEX_SUFFIX = re.compile(r"^(\d+)\.(png|jpg)$")
_REQUIRED = {"path": str, "sha256": str, "class": str, "seed": int, "index": int}


class FolderBusyError(AugmentGanError):
    """Another augment or clean holds the folder."""


def name_tag(value: object) -> str:
    """A model name or version made safe for a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)) or "_"


def stream_prefix(model: str, version: object, seed: int) -> str:
    return f"synthetic-{name_tag(model)}-v{name_tag(version)}-s{seed}-"


def synthetic_name(model: str, version: object, seed: int, index: int, ext: str) -> str:
    """``synthetic-<model>-v<version>-s<seed>-<index:06d>.<ext>``."""
    return f"{stream_prefix(model, version, seed)}{index:06d}.{ext}"


def index_in_stream(name: str, prefix: str) -> tuple[int, str] | None:
    """(index, ext) when ``name`` is a generated file of the stream with this prefix."""
    if not name.startswith(prefix):
        return None
    m = _INDEX_SUFFIX.match(name[len(prefix):])
    return (int(m.group(1)), m.group(2)) if m else None


def is_synthetic_rel(rel: str) -> bool:
    """Whether a relative path is where augment writes: ``<class>/synthetic-...``."""
    parts = PurePosixPath(rel).parts
    return len(parts) == 2 and not parts[0].startswith(".") and SYNTHETIC_NAME.match(parts[1]) is not None


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


StreamKey = tuple[str, str, str, int]  # class, model, str(model_version), seed


@dataclass
class Manifest:
    """The manifest of one folder (empty when the file does not exist yet)."""

    root: Path
    files: list[dict[str, Any]] = field(default_factory=list)
    streams: dict[StreamKey, int] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    existed: bool = False
    raw: bytes = b""

    @property
    def path(self) -> Path:
        return self.root / MANIFEST_NAME

    @classmethod
    def load(cls, root: Path) -> Manifest:
        path = Path(root) / MANIFEST_NAME
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(Path(root))
        except OSError as e:
            raise DataError(f"cannot read the manifest {path}: {e.strerror or e}.") from None

        def bad(why: str) -> DataError:
            return DataError(f"the manifest {path} is malformed ({why}); restore it or delete it "
                             "(the generated images it listed then count as real ones).")

        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise bad(f"not JSON: {e}") from None
        if not isinstance(doc, dict) or doc.get("version") != MANIFEST_VERSION or not isinstance(doc.get("files"), list):
            raise bad(f"expected an object with version {MANIFEST_VERSION} and a 'files' list")
        for i, entry in enumerate(doc["files"]):
            if not isinstance(entry, dict) or any(
                not isinstance(entry.get(k), t) or isinstance(entry.get(k), bool) for k, t in _REQUIRED.items()
            ):
                raise bad(f"entry {i} lacks one of {sorted(_REQUIRED)}")
        streams: dict[StreamKey, int] = {}
        for s in doc.get("streams", []):
            try:
                streams[(str(s["class"]), str(s["model"]), str(s["model_version"]), int(s["seed"]))] = int(s["next_index"])
            except (KeyError, TypeError, ValueError):
                raise bad("a 'streams' entry lacks class, model, model_version, seed or next_index") from None
        dirs = [d for d in doc.get("dirs", []) if isinstance(d, str)]
        return cls(Path(root), list(doc["files"]), streams, dirs, True, raw)

    def changed_on_disk(self) -> bool:
        """Whether the manifest file differs from what :meth:`load` read (another process)."""
        try:
            return self.path.read_bytes() != self.raw
        except FileNotFoundError:
            return self.existed

    def stream_next(self, key: StreamKey) -> int:
        return self.streams.get(key, 0)

    def to_bytes(self) -> bytes:
        # One entry per line: readable, diffable, and much smaller than indent=2.
        lines = ",\n  ".join(json.dumps(e, sort_keys=False) for e in self.files)
        streams = [{"class": c, "model": m, "model_version": v, "seed": s, "next_index": n}
                   for (c, m, v, s), n in sorted(self.streams.items())]
        head = {"version": MANIFEST_VERSION, "generator": "augment-gan", "updated": utc_now()}
        text = json.dumps(head)[:-1] + ',\n "files": [' + (f"\n  {lines}\n " if lines else "") + "],\n"
        text += f' "streams": {json.dumps(streams)},\n "dirs": {json.dumps(self.dirs)}\n}}\n'
        return text.encode("utf-8")

    def save(self) -> None:
        """Write atomically (temp file + fsync + rename)."""
        data = self.to_bytes()
        atomic_write_bytes(self.path, data)
        self.raw, self.existed = data, True

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.raw, self.existed = b"", False


@contextlib.contextmanager
def folder_lock(root: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on the folder itself (no lock file is left behind).

    The kernel drops it when the process dies, so a killed run never leaves a stale lock.
    On platforms without ``fcntl`` this is a no-op.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusyError(f"another augment-gan augment or clean is working on {root}; "
                                  "wait for it to finish.") from None
        yield
    finally:
        os.close(fd)  # releases the lock
