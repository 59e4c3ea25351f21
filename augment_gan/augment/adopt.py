"""``synthetic-`` files on disk that neither the manifest nor its journal knows.

A crash cannot leave such files behind any more (the journal records each one before it
is linked), but an older version of augment could, and so can a user copying files. One
of this augment's stream (same model, version, seed, format) is adopted when its bytes equal
what this augment would write for its index; any other is left as it is, its index skipped,
and reported -- never counted as real, never overwritten.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from augment_gan.augment import writer
from augment_gan.augment.options import Stream
from augment_gan.contracts.manifest import SYNTHETIC_NAME, Entry, Manifest, index_in_stream
from augment_gan.contracts.model_dir import sha256_file
from augment_gan.runtime.generator import OnnxGenerator

Spec = Callable[[str], tuple[str, tuple[int, int]]]  # class -> (mode, (width, height))


def unlisted_in(root: Path, classes: list[str], manifest: Manifest) -> list[str]:
    """``<class>/synthetic-*`` files of ``root`` that ``manifest`` does not list."""
    listed = {e["path"] for e in manifest.files}
    found = []
    for name in classes:
        try:
            entries = sorted(os.listdir(root / name))
        except OSError:
            continue
        found += [f"{name}/{f}" for f in entries if SYNTHETIC_NAME.match(f) and f"{name}/{f}" not in listed]
    return found


def adoptable(
    gen: OnnxGenerator, root: Path, unlisted: list[str], stream: Stream, spec: Spec, batch_size: int
) -> tuple[list[Entry], list[str]]:
    """Split unlisted synthetic files into (entries to adopt, paths left as they are)."""
    unrecorded: list[str] = []
    candidates: dict[str, list[tuple[int, str]]] = {}
    for rel in unlisted:
        cls_name, fname = rel.split("/", 1)
        hit = index_in_stream(fname, stream.prefix)
        if hit is None or hit[1] != stream.fmt or cls_name not in gen.classes:
            unrecorded.append(rel)
        else:
            candidates.setdefault(cls_name, []).append((hit[0], rel))
    adopt: list[Entry] = []
    for cls_name, items in candidates.items():
        for start in range(0, len(items), batch_size):
            _match(gen, root, cls_name, items[start : start + batch_size], stream, spec, adopt, unrecorded)
    return adopt, unrecorded


def _match(
    gen: OnnxGenerator,
    root: Path,
    cls_name: str,
    items: list[tuple[int, str]],
    stream: Stream,
    spec: Spec,
    adopt: list[Entry],
    unrecorded: list[str],
) -> None:
    """Regenerate one batch of a class's candidates; adopt those whose bytes match."""
    mode, size = spec(cls_name)
    datas = writer.render(
        gen, stream.seed, gen.classes.index(cls_name), [i for i, _ in items], mode, size, stream.fmt, len(items)
    )
    for (index, rel), data in zip(items, datas):
        digest = writer.sha256_bytes(data)
        try:
            same = sha256_file(root / rel) == digest
        except OSError:
            same = False
        if same:
            adopt.append({**stream.entry(cls_name, index, digest), "adopted": True})
        else:
            unrecorded.append(rel)
