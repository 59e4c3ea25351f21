"""On-disk cache of decoded image folders.

Decoding thousands of photos takes longer than a short training run, so the decoded
tensors are kept under a key derived from the decode options and every scanned file's
(path, size, mtime). Cache files hold only tensors and plain containers so they load with
``torch.load(weights_only=True)``: a cache file is never a way to run code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import PIL
import torch

from augment_gan.data.decode import DecodeOptions
from augment_gan.data.folder import FolderScan

CACHE_FORMAT_VERSION = 1
CACHE_DIR_ENV = "AUGMENT_GAN_CACHE_DIR"

_log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """Return ``$AUGMENT_GAN_CACHE_DIR`` if set, else ``~/.cache/augment-gan/decoded``."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "augment-gan" / "decoded"


def cache_key(scan: FolderScan, options: DecodeOptions, *, include_synthetic: bool) -> str:
    """Return the hex sha256 identifying one decode of one folder state.

    Besides the options and the (rel path, size, mtime_ns) of every file, the key covers
    the resolved root (two folders with coinciding names, sizes and timestamps must not
    share decoded pixels) and the Pillow version (decoders change between releases).
    """
    payload = {
        "format": CACHE_FORMAT_VERSION,
        "pillow": PIL.__version__,
        "root": str(scan.root),
        "resolution": options.resolution,
        "channels": str(options.channels),
        "max_pixels": options.max_pixels,
        "include_synthetic": include_synthetic,
        "files": sorted([f.rel, f.size, f.mtime_ns] for f in scan.files),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def cache_path(cache_dir: Path, key: str) -> Path:
    """Return the file that holds the entry for ``key``."""
    return cache_dir / f"{key}.pt"


def read_cache(path: Path, key: str) -> dict[str, Any] | None:
    """Load a cache entry, or return None when it is missing, unreadable or inconsistent.

    A bad entry is only logged: the caller rebuilds it, which is always safe.
    """
    if not path.is_file():
        return None
    try:
        entry = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "rebuild"
        _log.warning("Ignoring unreadable decode cache %s: %s", path, exc)
        return None
    if not _valid_entry(entry, key):
        _log.warning("Ignoring inconsistent decode cache %s", path)
        return None
    return entry


def _valid_entry(entry: Any, key: str) -> bool:
    if not isinstance(entry, dict):
        return False
    if entry.get("format") != CACHE_FORMAT_VERSION or entry.get("key") != key:
        return False
    images, labels = entry.get("images"), entry.get("labels")
    if not isinstance(images, torch.Tensor) or not isinstance(labels, torch.Tensor):
        return False
    if images.dtype != torch.uint8 or images.dim() != 4 or labels.dtype != torch.int64:
        return False
    n = images.shape[0]
    lists = ("classes", "paths", "sizes", "modes", "skipped")
    if not all(isinstance(entry.get(name), list) for name in lists):
        return False
    if not all(isinstance(entry.get(name), int) for name in ("channels", "resolution")):
        return False
    return (
        labels.shape == (n,)
        and len(entry["paths"]) == n
        and len(entry["sizes"]) == n
        and len(entry["modes"]) == n
        and images.shape[1] == entry["channels"]
        and images.shape[2] == images.shape[3] == entry["resolution"]
    )


def write_cache(path: Path, entry: dict[str, Any]) -> None:
    """Write a cache entry atomically (temp file in the same folder, then ``os.replace``).

    Failure to write (read-only disk, full disk) is logged and otherwise ignored: the
    cache is an optimisation, never a reason to fail a run.
    """
    tmp_name: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            torch.save(entry, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        _log.warning("Could not write decode cache %s: %s", path, exc)
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
