"""The augment manifest's crash journal, ``ROOT/.augment-gan-manifest.journal``: lines and writer.

Part of the manifest contract (:mod:`augment_gan.contracts.manifest` says what it is for
and folds it; import its names from there). Append-only JSON lines, one object with one
key each: ``{"file": <manifest entry>}``, ``{"dir": "<folder>"}``, ``{"dropped": "<path>"}``.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from augment_gan.errors import DataError
from augment_gan.fileio import fsync_dir

JOURNAL_NAME = ".augment-gan-manifest.journal"


class RecordKind(enum.StrEnum):
    """What one journal line says."""

    FILE = "file"  # value: a manifest entry, about to be linked into place
    DIR = "dir"  # value: a folder (relative path), about to be created
    DROPPED = "dropped"  # value: the path of an earlier FILE record someone else took first


class Record(NamedTuple):
    kind: RecordKind
    value: Any


EntryCheck = Callable[[Any], "str | None"]  # a manifest entry -> what is wrong with it, or None


def _parse_record(line: bytes, entry_problem: EntryCheck) -> Record | None:
    """The record of one line; None when it is not JSON (torn), ValueError when it is JSON
    of the wrong shape."""
    try:
        doc = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(doc, dict) or len(doc) != 1:
        raise ValueError("expected an object with one key, file, dir or dropped")
    ((key, value),) = doc.items()
    try:
        kind = RecordKind(key)
    except ValueError:
        raise ValueError(f"unknown record {key!r}") from None
    if kind is RecordKind.FILE and (problem := entry_problem(value)):
        raise ValueError(f"a file record {problem}")
    if kind is not RecordKind.FILE and not isinstance(value, str):
        raise ValueError(f"a {kind} record is not a path")
    return Record(kind, value)


def parse_journal_lines(raw: bytes, path: Path, entry_problem: EntryCheck) -> list[Record]:
    """The records of a journal's bytes. A torn tail (a crash mid-append: not JSON, or not
    even UTF-8, and only such lines after it) is ignored; anything else malformed is a
    one-line DataError."""
    lines = raw.split(b"\n")
    records: list[Record] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = _parse_record(line, entry_problem)
        except ValueError as e:
            raise _malformed(path, f"line {n}: {e}") from None
        if record is None:
            if any(_is_record(rest, entry_problem) for rest in lines[n:]):
                raise _malformed(path, f"line {n} is not JSON")
            break
        records.append(record)
    return records


def _is_record(line: bytes, entry_problem: EntryCheck) -> bool:
    try:
        return _parse_record(line, entry_problem) is not None
    except ValueError:
        return False


def _malformed(path: Path, why: str) -> DataError:
    return DataError(
        f"the augment journal {path} is malformed ({why}); restore it or delete it "
        "(the generated images it lists then count as real ones)."
    )


class Journal:
    """Appends records to ``ROOT/.augment-gan-manifest.journal`` (opened on the first append).

    Example::

        with Journal(root) as journal:
            journal.append([Journal.intent(entry)])   # durable when it returns
    """

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / JOURNAL_NAME
        self._fd: int | None = None
        self._dir_synced = False

    @staticmethod
    def intent(entry: dict[str, Any]) -> Record:
        return Record(RecordKind.FILE, entry)

    @staticmethod
    def new_dir(rel: str) -> Record:
        return Record(RecordKind.DIR, rel)

    @staticmethod
    def dropped(rel: str) -> Record:
        return Record(RecordKind.DROPPED, rel)

    def append(self, records: Iterable[Record], *, durable: bool = True) -> None:
        """Append the records in one write; with ``durable``, fsync before returning (and
        the folder, the first time, so the journal's own name survives a power loss)."""
        data = "".join(json.dumps({r.kind.value: r.value}) + "\n" for r in records).encode("utf-8")
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        if durable:
            os.fsync(self._fd)
            if not self._dir_synced:
                fsync_dir(self.path.parent)
                self._dir_synced = True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
