"""The augment manifest: which files of a folder augment generated (the one owner of the format).

Two hidden FILES at the folder's root (``ROOT`` = the data folder, or augment's ``--out``;
a hidden *folder* would become a class for torchvision's ``ImageFolder``, a file at the
root is ignored by it):

- ``ROOT/.augment-gan-manifest.json``, the record, rewritten atomically::

    {"version": 1,
     "files": [{"path": "cat/synthetic-pets-v2-s0-000004.png", "sha256": "...", "class": "cat",
                "model": "pets", "model_version": 2, "seed": 0, "index": 4,
                "created": "2025-01-01T12:00:00Z"}, ...],
     "streams": [{"class": "cat", "model": "pets", "model_version": 2, "seed": 0, "next_index": 5}],
     "dirs": ["cat"]}

  ``streams`` remembers the next noise index of each (class, model, version, seed), so a
  file deleted by hand is not generated again by a top-up; ``dirs`` lists folders augment
  created, which ``clean`` removes once empty.

- ``ROOT/.augment-gan-manifest.journal``, append-only JSON lines, each fsynced before
  augment acts on it: ``{"file": <entry>}`` (a file about to be linked into place, with its
  sha256), ``{"dir": "cat"}`` (a folder about to be created), ``{"dropped": "cat/..."}``
  (an intended name someone else took first: not ours). A writer stages a file's bytes
  under a hidden temp name (:data:`SYNTHETIC_TEMP`), fsyncs them, journals the intent and
  only then links the final name, so after any crash (SIGKILL, power loss) every file
  augment created is in the manifest or the journal. The journal is folded into the
  manifest (:meth:`Manifest.load`) at the end of a run, by the next run and by ``clean``,
  and removed by :meth:`Manifest.save`. A torn last line (a crash mid-append) is ignored:
  nothing it names was linked yet.

Readers: :func:`generated_paths` (the folder scanner: keep generated files out of real
counts), :class:`Manifest` (augment and clean), :func:`leftover_temps` (what a killed
writer left half-written).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from augment_gan.contracts.manifest_journal import JOURNAL_NAME, Journal, Record, RecordKind, parse_journal_lines
from augment_gan.errors import DataError
from augment_gan.fileio import atomic_write_bytes

__all__ = [  # the journal's names too: callers import the whole contract from here
    "JOURNAL_NAME",
    "MANIFEST_NAME",
    "MANIFEST_TEMP",
    "MANIFEST_VERSION",
    "SYNTHETIC_NAME",
    "SYNTHETIC_TEMP",
    "Entry",
    "Journal",
    "Manifest",
    "Record",
    "RecordKind",
    "StreamKey",
    "fold",
    "generated_paths",
    "index_in_stream",
    "is_synthetic_rel",
    "leftover_temps",
    "name_tag",
    "new_entry",
    "parse_journal",
    "parse_manifest",
    "stream_key",
    "stream_prefix",
    "synthetic_name",
    "utc_now",
]

MANIFEST_NAME = ".augment-gan-manifest.json"
MANIFEST_VERSION = 1

# synthetic-<model>-v<version>-s<seed>-<index>.<ext>; the model name and version may hold '-'.
SYNTHETIC_NAME = re.compile(r"^synthetic-.+-v.+-s\d+-\d+\.(?:png|jpg)$")
# the hidden temp file a writer stages one under: .<name>.<random hex>.tmp (augment.writer.stage)
SYNTHETIC_TEMP = re.compile(r"^\.synthetic-.+-v.+-s\d+-\d+\.(?:png|jpg)\.[0-9a-f]+\.tmp$")
# the manifest's own temp file while it is rewritten (fileio.atomic_write: mkstemp)
MANIFEST_TEMP = re.compile(r"^" + re.escape(f".{MANIFEST_NAME}.") + r"[A-Za-z0-9_]+\.tmp$")
_INDEX_SUFFIX = re.compile(r"^(\d+)\.(png|jpg)$")
_REQUIRED = {"path": str, "sha256": str, "class": str, "seed": int, "index": int}

Entry = dict[str, Any]
StreamKey = tuple[str, str, str, int]  # class, model, str(model_version), seed


# --- generated file names -----------------------------------------------------------------
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
    m = _INDEX_SUFFIX.match(name[len(prefix) :])
    return (int(m.group(1)), m.group(2)) if m else None


def is_synthetic_rel(rel: str) -> bool:
    """Whether a relative path is where augment writes: ``<class>/synthetic-...``."""
    parts = PurePosixPath(rel).parts  # an absolute path has 3+ parts; "..", "." start with "."
    return len(parts) == 2 and not parts[0].startswith(".") and SYNTHETIC_NAME.match(parts[1]) is not None


def new_entry(path: str, sha256: str, cls: str, model: str, model_version: Any, seed: int, index: int) -> Entry:
    """A ``files`` entry for a file written now."""
    return {
        "path": path,
        "sha256": sha256,
        "class": cls,
        "model": model,
        "model_version": model_version,
        "seed": seed,
        "index": index,
        "created": utc_now(),
    }


def stream_key(entry: Entry) -> StreamKey:
    return (entry["class"], str(entry.get("model")), str(entry.get("model_version")), entry["seed"])


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --- parsing ------------------------------------------------------------------------------
def _malformed(path: Path, why: str) -> DataError:
    return DataError(
        f"the manifest {path} is malformed ({why}); restore it or delete it "
        "(the generated images it lists then count as real ones)."
    )


def entry_problem(entry: object) -> str | None:
    """What is wrong with a ``files`` entry (None: nothing)."""
    ok = isinstance(entry, dict) and all(
        isinstance(entry.get(k), t) and not isinstance(entry.get(k), bool) for k, t in _REQUIRED.items()
    )
    return None if ok else f"lacks one of {sorted(_REQUIRED)}"


def parse_manifest(raw: bytes, path: Path) -> tuple[list[Entry], dict[StreamKey, int], list[str]]:
    """(files, streams, dirs) of a manifest's bytes; DataError (one line) when malformed."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _malformed(path, f"not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("version") != MANIFEST_VERSION or not isinstance(doc.get("files"), list):
        raise _malformed(path, f"expected an object with version {MANIFEST_VERSION} and a 'files' list")
    for i, entry in enumerate(doc["files"]):
        if problem := entry_problem(entry):
            raise _malformed(path, f"entry {i} {problem}")
    streams: dict[StreamKey, int] = {}
    for s in doc.get("streams", []):
        try:
            streams[(str(s["class"]), str(s["model"]), str(s["model_version"]), int(s["seed"]))] = int(s["next_index"])
        except (KeyError, TypeError, ValueError):
            raise _malformed(path, "a 'streams' entry lacks class, model, model_version, seed or next_index") from None
    dirs = [d for d in doc.get("dirs", []) if isinstance(d, str)]
    return list(doc["files"]), streams, dirs


def parse_journal(raw: bytes, path: Path) -> list[Record]:
    """The records of a journal's bytes (a torn last append ignored); DataError when malformed."""
    return parse_journal_lines(raw, path, entry_problem)


def fold(
    files: list[Entry],
    streams: dict[StreamKey, int],
    dirs: list[str],
    records: Iterable[Record],
    exists: Callable[[str], bool],
) -> None:
    """Add the journal's records to (files, streams, dirs), in place; idempotent.

    An intended file becomes a recorded one when its path exists (whatever its bytes:
    ``clean`` then compares the sha256), else it never got linked and is forgotten, like
    one someone else took first (``dropped``). A folder is added when it exists.
    """
    pending: dict[str, Entry] = {}
    for kind, value in records:
        if kind is RecordKind.FILE:
            pending[value["path"]] = value
        elif kind is RecordKind.DROPPED:
            pending.pop(value, None)
        elif value not in dirs and exists(value):
            dirs.append(value)
    recorded = {e["path"] for e in files}
    for rel, entry in pending.items():
        if rel in recorded or not exists(rel):
            continue
        files.append(entry)
        key = stream_key(entry)
        streams[key] = max(streams.get(key, 0), entry["index"] + 1)


def _read(path: Path, what: str) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise DataError(f"cannot read the {what} {path}: {e.strerror or e}.") from None


def generated_paths(root: str | os.PathLike[str]) -> frozenset[str]:
    """The relative posix paths in ``root`` that augment generated or was generating:
    recorded in the manifest, or intended in the journal (whether or not they exist).

    Empty without a manifest and journal; DataError when one is malformed (silently
    counting generated images as real would skew every class count computed afterwards).
    """
    root = Path(root)
    paths: set[str] = set()
    raw = _read(root / MANIFEST_NAME, "manifest")
    if raw is not None:
        paths.update(e["path"] for e in parse_manifest(raw, root / MANIFEST_NAME)[0])
    raw = _read(root / JOURNAL_NAME, "augment journal")
    if raw is not None:
        paths.update(r.value["path"] for r in parse_journal(raw, root / JOURNAL_NAME) if r.kind is RecordKind.FILE)
    return frozenset(PurePosixPath(p).as_posix() for p in paths)


def leftover_temps(root: str | os.PathLike[str]) -> list[str]:
    """Relative paths of the hidden temp files a killed augment left: ``<class>/.synthetic-*.tmp``
    (a file staged, not linked yet) and the manifest's own (``.augment-gan-manifest.json.*.tmp``)."""
    root = Path(root)
    found = []
    with os.scandir(root) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if MANIFEST_TEMP.match(entry.name):
            found.append(entry.name)
        elif not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
            try:
                names = sorted(os.listdir(entry.path))
            except OSError:
                continue
            found += [f"{entry.name}/{n}" for n in names if SYNTHETIC_TEMP.match(n)]
    return found


# --- the manifest -------------------------------------------------------------------------
@dataclass
class Manifest:
    """The manifest of one folder, the journal folded in (empty when neither exists).

    ``raw`` / ``journal_raw``: the bytes read (None: no such file), to notice another writer.
    """

    root: Path
    files: list[Entry] = field(default_factory=list)
    streams: dict[StreamKey, int] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    raw: bytes | None = None
    journal_raw: bytes | None = None

    @property
    def path(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def journal_path(self) -> Path:
        return self.root / JOURNAL_NAME

    @property
    def existed(self) -> bool:
        """Whether a manifest or a journal was there (something augment did to clean)."""
        return self.raw is not None or self.journal_raw is not None

    @property
    def journal_pending(self) -> bool:
        """Whether a journal (of a killed run) waits to be folded into the manifest file."""
        return self.journal_raw is not None

    @classmethod
    def load(cls, root: str | os.PathLike[str]) -> Manifest:
        root = Path(root)
        m = cls(root)
        m.raw = _read(m.path, "manifest")
        if m.raw is not None:
            m.files, m.streams, m.dirs = parse_manifest(m.raw, m.path)
        m.journal_raw = _read(m.journal_path, "augment journal")
        if m.journal_raw is not None:
            fold(
                m.files,
                m.streams,
                m.dirs,
                parse_journal(m.journal_raw, m.journal_path),
                lambda rel: os.path.lexists(root / rel),
            )
        return m

    def changed_on_disk(self) -> bool:
        """Whether the manifest or journal differs from what :meth:`load` read (another process)."""
        return (_read(self.path, "manifest"), _read(self.journal_path, "augment journal")) != (
            self.raw,
            self.journal_raw,
        )

    def stream_next(self, key: StreamKey) -> int:
        return self.streams.get(key, 0)

    def to_bytes(self) -> bytes:
        # One entry per line: readable, diffable, and much smaller than indent=2.
        lines = ",\n  ".join(json.dumps(e, sort_keys=False) for e in self.files)
        streams = [
            {"class": c, "model": m, "model_version": v, "seed": s, "next_index": n}
            for (c, m, v, s), n in sorted(self.streams.items())
        ]
        head = {"version": MANIFEST_VERSION, "generator": "augment-gan", "updated": utc_now()}
        text = json.dumps(head)[:-1] + ',\n "files": [' + (f"\n  {lines}\n " if lines else "") + "],\n"
        text += f' "streams": {json.dumps(streams)},\n "dirs": {json.dumps(self.dirs)}\n}}\n'
        return text.encode("utf-8")

    def save(self) -> None:
        """Write the manifest atomically (temp file + fsync + rename), then drop the journal,
        now folded in."""
        data = self.to_bytes()
        atomic_write_bytes(self.path, data)
        self.raw = data
        self._drop_journal()

    def remove(self) -> None:
        """Delete the journal and the manifest (nothing left to record)."""
        self._drop_journal()
        self.path.unlink(missing_ok=True)
        self.raw = None

    def _drop_journal(self) -> None:
        self.journal_path.unlink(missing_ok=True)
        self.journal_raw = None
