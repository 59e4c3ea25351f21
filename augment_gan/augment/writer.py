"""Turning generated arrays into files that look like the folder's own, written safely.

- Mode: "L" when most of a class's real images are in a gray mode, else "RGB" (a gray
  model's output is replicated to RGB; an RGB model's is converted to luma, ITU-R 601-2).
- Size: ``native`` = the class's median real width and height (lower median); the square
  sample is center-cropped to that aspect ratio, then resized (LANCZOS). ``model`` keeps
  the generator's resolution.
- Writing, in steps so the caller can record its intent in between (``augment.apply``):
  :func:`stage` writes a hidden temp file (``.<name>.<random hex>.tmp``, see
  :data:`augment_gan.contracts.manifest.SYNTHETIC_TEMP`) in the final folder,
  :func:`fsync_paths` makes a batch of them durable, :func:`publish` links one to its final
  name -- failing instead of replacing a file that exists (a concurrent writer's or the
  user's) -- and :func:`discard` removes the temp names.
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
from augment_gan.runtime.generator import OnnxGenerator
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


def render(
    gen: OnnxGenerator,
    seed: int,
    class_index: int,
    indices: Sequence[int],
    mode: str,
    size: tuple[int, int],
    fmt: str,
    batch_size: int,
) -> list[bytes]:
    """The file bytes of samples ``indices`` of one class: sample i on the per-sample stream
    (latent ``default_rng([seed, c, i])``, or its next candidates under per-sample selection)."""
    arrays = gen.samples(class_index, seed, list(indices), batch_size=batch_size)
    return [encode(to_output(array, mode, size), fmt) for array in arrays]


def stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new hidden temp file beside ``path`` and return its path.

    Not fsynced (:func:`fsync_paths` does a whole batch at once, much faster); a partial
    temp file is removed when writing fails.
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    # os.open with 0o666 (not mkstemp's 0o600): the file gets the user's umask like any other
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def publish(tmp: Path, path: Path) -> None:
    """Give the staged file ``tmp`` the name ``path``; FileExistsError if it exists (nothing replaced).

    A hard link, so ``path`` appears complete or not at all; on filesystems without hard
    links, an exists-check + rename (a tiny race window). Call :func:`discard` on ``tmp`` after.
    """
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


def discard(paths: Sequence[Path]) -> None:
    """Remove temp files (ones already renamed into place are simply gone)."""
    for p in paths:
        Path(p).unlink(missing_ok=True)


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
