"""Loading an image folder into one uint8 tensor, decoding every file exactly once."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from augment_gan.data.cache import (
    CACHE_FORMAT_VERSION,
    cache_key,
    cache_path,
    default_cache_dir,
    read_cache,
    write_cache,
)
from augment_gan.data.decode import (
    DEFAULT_MAX_PIXELS,
    Channels,
    DecodeOptions,
    ImageSkip,
    SkipKind,
    is_gray_mode,
    is_grayscale,
    open_image,
    resize_center_crop,
    to_channels,
)
from augment_gan.data.folder import FileEntry, FolderScan, scan_folder
from augment_gan.errors import ConfigError, DataError

MIN_IMAGES_PER_CLASS = 2
_STRICT_LISTED = 5  # skipped files named in the strict-mode error


@dataclass(frozen=True)
class Skipped:
    """A file left out of the dataset, and why."""

    path: str
    reason: str
    kind: SkipKind | None = None  # None: read from a cache written before kinds existed


@dataclass
class ImageData:
    """A decoded image folder: ``images`` is uint8 N×C×H×W, rows aligned with ``paths``."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    paths: list[str]
    sizes: list[tuple[int, int]]
    modes: list[str]
    skipped: list[Skipped]
    channels: int
    resolution: int
    key: str
    root: str = ""
    synthetic_excluded: int = 0
    from_cache: bool = field(default=False, compare=False)

    def class_counts(self) -> dict[str, int]:
        """Return usable images per class, in class-index order (zeros included)."""
        counts = torch.bincount(self.labels, minlength=len(self.classes)).tolist()
        return dict(zip(self.classes, counts, strict=True))


@dataclass
class _Decoded:
    # Small resized images: "L" arrays (H, W) for gray sources, "RGB" arrays (H, W, 3)
    # otherwise, so "auto" can pick the channel count after the single pass.
    arrays: list[np.ndarray]
    gray: list[bool]
    labels: list[int]
    paths: list[str]
    sizes: list[tuple[int, int]]
    modes: list[str]
    skipped: list[Skipped]


def _decode_one(entry: FileEntry, options: DecodeOptions) -> tuple[np.ndarray, bool, tuple[int, int], str]:
    """Decode, convert and resize one file; returns (array, is_gray, (W, H), mode)."""
    img = open_image(entry.path, options.max_pixels)
    try:
        mode, size = img.mode, img.size
        if options.channels == "auto":
            # Gray-mode sources go straight to L; colour modes go to RGB and are checked
            # for R == G == B after resizing (resampling is per channel, so it is the same
            # answer at a fraction of the cost).
            target = 1 if is_gray_mode(mode) else 3
        else:
            target = options.channels
        small = resize_center_crop(to_channels(img, target), options.resolution)
        gray = target == 1 or is_grayscale(small)
        return np.asarray(small, dtype=np.uint8), gray, size, mode
    finally:
        img.close()


def _decode_all(scan: FolderScan, options: DecodeOptions, progress: bool) -> _Decoded:
    out = _Decoded([], [], [], [], [], [], [])
    class_index = {name: i for i, name in enumerate(scan.classes)}
    console = Console(stderr=True)
    columns = (
        TextColumn("Decoding images"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    disable = not progress or not console.is_terminal
    with Progress(*columns, console=console, transient=True, disable=disable) as bar:
        task = bar.add_task("decode", total=len(scan.files))
        for entry in scan.files:
            try:
                arr, gray, size, mode = _decode_one(entry, options)
            except ImageSkip as skip:
                out.skipped.append(Skipped(entry.rel, skip.reason, skip.kind))
            else:
                out.arrays.append(arr)
                out.gray.append(gray)
                out.labels.append(class_index[entry.class_name])
                out.paths.append(entry.rel)
                out.sizes.append(size)
                out.modes.append(mode)
            bar.advance(task)
    return out


def _stack(decoded: _Decoded, channels: int, resolution: int) -> torch.Tensor:
    shape = (len(decoded.arrays), channels, resolution, resolution)
    images = torch.empty(shape, dtype=torch.uint8)
    for i, arr in enumerate(decoded.arrays):
        if arr.ndim == 2:
            chw = arr[None] if channels == 1 else np.broadcast_to(arr[None], (3, *arr.shape))
        elif channels == 1:
            # Only reached under "auto" with R == G == B, so any channel is the gray value
            # (and equals Pillow's luma, whose weights sum to exactly 1).
            chw = arr[None, :, :, 0]
        else:
            chw = arr.transpose(2, 0, 1)
        images[i] = torch.from_numpy(np.array(chw))  # copy: PIL-backed arrays are read-only
    return images


def _build(scan: FolderScan, options: DecodeOptions, progress: bool, key: str) -> ImageData:
    decoded = _decode_all(scan, options, progress)
    if options.channels == "auto":
        # With no usable image at all, 3 is as good as anything; validation fails anyway.
        chosen = 1 if decoded.gray and all(decoded.gray) else 3
    else:
        chosen = options.channels
    return ImageData(
        images=_stack(decoded, chosen, options.resolution),
        labels=torch.tensor(decoded.labels, dtype=torch.int64),
        classes=list(scan.classes),
        paths=decoded.paths,
        sizes=decoded.sizes,
        modes=decoded.modes,
        skipped=decoded.skipped,
        channels=chosen,
        resolution=options.resolution,
        key=key,
    )


def _to_entry(data: ImageData) -> dict[str, object]:
    return {
        "format": CACHE_FORMAT_VERSION,
        "key": data.key,
        "images": data.images,
        "labels": data.labels,
        "classes": list(data.classes),
        "paths": list(data.paths),
        "sizes": [[w, h] for w, h in data.sizes],
        "modes": list(data.modes),
        "skipped": [{"path": s.path, "reason": s.reason, "kind": s.kind and s.kind.value} for s in data.skipped],
        "channels": data.channels,
        "resolution": data.resolution,
    }


def _from_entry(entry: dict) -> ImageData:
    return ImageData(
        images=entry["images"],
        labels=entry["labels"],
        classes=list(entry["classes"]),
        paths=list(entry["paths"]),
        sizes=[(int(w), int(h)) for w, h in entry["sizes"]],
        modes=list(entry["modes"]),
        skipped=[Skipped(s["path"], s["reason"], s.get("kind") and SkipKind(s["kind"])) for s in entry["skipped"]],
        channels=entry["channels"],
        resolution=entry["resolution"],
        key=entry["key"],
        from_cache=True,
    )


def _validate(data: ImageData, strict: bool) -> None:
    if strict and data.skipped:
        listed = "; ".join(f"{s.path}: {s.reason}" for s in data.skipped[:_STRICT_LISTED])
        rest = len(data.skipped) - _STRICT_LISTED
        more = f"; and {rest} more" if rest > 0 else ""
        raise DataError(
            f"{len(data.skipped)} files could not be used ({listed}{more}); fix or remove "
            "them, or run without strict mode to skip them."
        )
    skipped_per_class = Counter(s.path.split("/", 1)[0] for s in data.skipped)
    for name, count in data.class_counts().items():
        if count < MIN_IMAGES_PER_CLASS:
            skipped = skipped_per_class[name]
            why = f" after skipping {skipped} unusable files" if skipped else ""
            raise DataError(
                f"class '{name}' has {count} usable images{why}; every class needs at least "
                f"{MIN_IMAGES_PER_CLASS}, so add images or remove the folder."
            )


def _resolve_cache_dir(cache_dir: str | os.PathLike[str] | None, root: Path) -> Path:
    chosen = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    resolved = chosen.resolve()
    if resolved == root or root in resolved.parents:
        # Anything written under the data folder risks becoming a bogus class or image.
        raise ConfigError(f"The cache dir {resolved} is inside the data folder {root}; choose a cache dir outside it.")
    return resolved


def load_image_folder(
    root: str | os.PathLike[str],
    *,
    resolution: int = 32,
    channels: Channels = "auto",
    strict: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    cache_dir: str | os.PathLike[str] | None = None,
    include_synthetic: bool = False,
    progress: bool = True,
) -> ImageData:
    """Decode every image of a class-per-sub-folder dataset into one uint8 tensor.

    Each file is decoded once: its size and mode are recorded, it is converted to the
    channel count and resized (short side to ``resolution``, centre crop) from that one
    decode. ``channels="auto"`` picks 1 only when every usable image is grayscale.
    Unusable files are collected in ``ImageData.skipped`` with a reason. Results are
    cached under ``cache_dir`` (else ``$AUGMENT_GAN_CACHE_DIR``, else
    ``~/.cache/augment-gan/decoded``); nothing is ever written into ``root``.

    Raises:
        ConfigError: bad ``resolution``, ``channels`` or ``max_pixels``, or a cache dir
            inside ``root``.
        DataError: the folder cannot be scanned, ``strict`` is set and a file was skipped,
            or a class ends up with fewer than 2 usable images.
    """
    options = DecodeOptions(resolution=resolution, channels=channels, max_pixels=max_pixels)
    scan = scan_folder(root, include_synthetic=include_synthetic)
    key = cache_key(scan, options, include_synthetic=include_synthetic)
    path = cache_path(_resolve_cache_dir(cache_dir, scan.root), key)
    entry = read_cache(path, key)
    if entry is not None:
        data = _from_entry(entry)
    else:
        data = _build(scan, options, progress, key)
        # Written before validation: the decoded pixels do not depend on `strict`, so a
        # strict run that fails and a lenient re-run share one decode.
        write_cache(path, _to_entry(data))
    # Not cached: deleting a generated file changes the count without changing the key.
    data.root = str(scan.root)
    data.synthetic_excluded = scan.synthetic_excluded
    _validate(data, strict)
    return data
