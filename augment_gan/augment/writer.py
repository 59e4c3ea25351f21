"""Turning generated arrays into files that look like the folder's own, written safely.

- Mode: "L" when most of a class's real images are in a gray mode, else "RGB" (a gray
  model's output is replicated to RGB; an RGB model's is converted to luma, ITU-R 601-2).
- Size: ``native`` = the class's median real width and height (lower median); the square
  sample is center-cropped to that aspect ratio, then resized (LANCZOS). ``model`` keeps
  the generator's resolution.
- Writing: encode in memory, write a hidden temp file (``.<name>.<random>.tmp``) in the
  same folder, fsync, then ``os.link`` it to the final name, which fails instead of
  replacing a file that exists (a concurrent writer's or the user's). The temp file is
  always removed, also on Ctrl-C.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import secrets
import statistics
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from augment_gan.data.decode import is_gray_mode
from augment_gan.runtime.images import to_pil

FORMATS = {"png": "PNG", "jpg": "JPEG"}
JPEG_QUALITY = 95
HEADER_SAMPLE = 1000  # real images read (headers only) per class for mode and median size
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}


def real_format(paths: Sequence[Path]) -> tuple[str, tuple[int, int]] | None:
    """("L"|"RGB", (median width, median height)) of a class's real images, from headers only.

    Reads at most :data:`HEADER_SAMPLE` files, evenly spread; unreadable files are ignored.
    None when no file can be read.
    """
    step = max(1, len(paths) // HEADER_SAMPLE)
    widths, heights, gray = [], [], 0
    for path in list(paths)[::step][:HEADER_SAMPLE]:
        try:
            with Image.open(path) as img:
                w, h = img.size
                gray += is_gray_mode(img.mode)
        except Exception:  # noqa: BLE001 - any unreadable file: `inspect` reports it, we skip it
            continue
        widths.append(w)
        heights.append(h)
    if not widths:
        return None
    mode = "L" if gray * 2 > len(widths) else "RGB"
    return mode, (int(statistics.median_low(widths)), int(statistics.median_low(heights)))


def to_output(array: np.ndarray, mode: str, size: tuple[int, int]) -> Image.Image:
    """One generated uint8 (H, W, C) sample as a PIL image of ``mode`` and ``size`` (W, H)."""
    img = to_pil(array)
    if img.mode != mode:
        img = img.convert(mode)
    if img.size != size:
        side_w, side_h = img.size
        want_w, want_h = size
        # center crop to the target aspect ratio, then one resample (no stretching)
        if want_w * side_h > want_h * side_w:  # wider than the square
            crop_h = side_w * want_h / want_w
            box = (0.0, (side_h - crop_h) / 2, float(side_w), (side_h + crop_h) / 2)
        else:
            crop_w = side_h * want_w / want_h
            box = ((side_w - crop_w) / 2, 0.0, (side_w + crop_w) / 2, float(side_h))
        img = img.resize(size, Image.Resampling.LANCZOS, box=box)
    return img


def encode(img: Image.Image, fmt: str) -> bytes:
    """PNG or JPEG bytes (deterministic for the same pixels and Pillow build)."""
    buf = io.BytesIO()
    if fmt == "jpg":
        img.save(buf, format="JPEG", quality=JPEG_QUALITY)
    else:
        img.save(buf, format="PNG")
    return buf.getvalue()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_exclusive(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write ``data`` to a new file ``path``; FileExistsError if it exists (nothing replaced).

    Never leaves a partial file under ``path`` when the process dies: the bytes go to a
    hidden temp file first, then it is hard-linked to ``path``. On filesystems without hard
    links it falls back to an exists-check + rename (a tiny race window). ``fsync=False``
    leaves durability to the caller (:func:`fsync_paths` for a whole batch, much faster).
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    # os.open with 0o666 (not mkstemp's 0o600): the file gets the user's umask like any other
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError as e:
            if e.errno not in _NO_LINK:
                raise
            if os.path.lexists(path):
                raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
            os.rename(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def fsync_paths(paths: Sequence[Path], workers: int = 8) -> None:
    """fsync many files at once: concurrent fsyncs share journal commits (about 3x faster
    than one by one on ext4)."""

    def sync(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    if len(paths) <= 1:
        for p in paths:
            sync(p)
        return
    with ThreadPoolExecutor(min(workers, len(paths))) as pool:
        list(pool.map(sync, paths))

