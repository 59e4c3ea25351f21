"""Decoding one image file, converting its mode, and resizing it.

Everything a user's file can get wrong surfaces as :class:`ImageSkip` with a short reason,
so the loader can report the file and carry on instead of crashing or dropping it silently.
"""

from __future__ import annotations

import contextlib
import enum
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageChops, ImageFile, UnidentifiedImageError

from augment_gan.errors import ConfigError

DEFAULT_MAX_PIXELS = 40_000_000
SUPPORTED_RESOLUTIONS = (32, 64, 128, 256)

Channels = Literal["auto", 1, 3]

# Modes whose pixels carry no colour. "La" is premultiplied LA.
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "F"})


@dataclass(frozen=True)
class DecodeOptions:
    """How every file of a folder is decoded; validated on construction.

    ``channels="auto"`` means 1 if every usable image is grayscale, else 3.
    """

    resolution: int = 32
    channels: Channels = "auto"
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        # bool is an int subclass: channels=True would otherwise pass as 1.
        if isinstance(self.resolution, bool) or self.resolution not in SUPPORTED_RESOLUTIONS:
            raise ConfigError(
                f"Resolution must be one of {', '.join(map(str, SUPPORTED_RESOLUTIONS))}, got "
                f"{self.resolution!r}; pick one of those."
            )
        if isinstance(self.channels, bool) or self.channels not in ("auto", 1, 3):
            raise ConfigError(f"Channels must be 'auto', 1 or 3, got {self.channels!r}; pick one of those.")
        mp = self.max_pixels
        if isinstance(mp, bool) or not isinstance(mp, int) or mp <= 0:
            raise ConfigError(f"max_pixels must be a positive integer, got {mp!r}; pass e.g. {DEFAULT_MAX_PIXELS}.")


class SkipKind(str, enum.Enum):
    """Why a file is not used, as a value code can branch on (``reason`` has the details)."""

    EMPTY = "empty"
    UNREADABLE = "unreadable"
    NOT_AN_IMAGE = "not-an-image"
    TOO_LARGE = "too-large"
    CORRUPT = "corrupt"
    UNSUPPORTED_MODE = "unsupported-mode"


class ImageSkip(Exception):
    """A file that cannot be used as a training image; ``kind`` and ``reason`` say why."""

    def __init__(self, kind: SkipKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _is_16bit(mode: str) -> bool:
    return mode.startswith("I;16")


def is_gray_mode(mode: str) -> bool:
    """Return True for PIL modes that cannot hold colour (1, L, LA, I, I;16*, F)."""
    return mode in _GRAY_MODES or _is_16bit(mode)


@contextlib.contextmanager
def _strict_truncation() -> Iterator[None]:
    # Some libraries flip LOAD_TRUNCATED_IMAGES on globally; a padded half-image would
    # then train the GAN on grey bands. Force the strict behaviour while we load, and
    # restore whatever the process had.
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def open_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open and fully decode the first frame of an image file (no file handle kept).

    The pixel count is checked from the header before any pixel data is decoded, against
    ``max_pixels`` (not Pillow's global ``MAX_IMAGE_PIXELS``, which is left untouched;
    if Pillow's own, larger, bomb limit trips first, that is reported the same way).

    Raises:
        ImageSkip: zero-byte, unreadable, not an image, over the pixel limit, truncated or
            corrupt.
    """
    try:
        if os.stat(path).st_size == 0:
            raise ImageSkip(SkipKind.EMPTY, "zero-byte file")
    except OSError as exc:
        raise ImageSkip(SkipKind.UNREADABLE, f"cannot read file: {exc.strerror or exc}") from exc

    with warnings.catch_warnings():
        # Our own max_pixels check below is the one that counts.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(path)
        except UnidentifiedImageError as exc:
            raise ImageSkip(SkipKind.NOT_AN_IMAGE, "not an image (cannot identify image file)") from exc
        except Image.DecompressionBombError as exc:
            raise ImageSkip(SkipKind.TOO_LARGE, f"{exc} (possible decompression bomb)") from exc
        except OSError as exc:
            raise ImageSkip(SkipKind.UNREADABLE, f"cannot read file: {exc.strerror or exc}") from exc
        except Exception as exc:  # noqa: BLE001 - plugin header parsers raise anything
            raise ImageSkip(SkipKind.NOT_AN_IMAGE, f"not an image (corrupt header: {exc})") from exc

        try:
            width, height = img.size
            pixels = width * height
            if pixels > max_pixels:
                raise ImageSkip(
                    SkipKind.TOO_LARGE,
                    f"image has {width}×{height} = {pixels} pixels, over the limit of "
                    f"{max_pixels} (possible decompression bomb)",
                )
            if pixels == 0:
                raise ImageSkip(SkipKind.EMPTY, f"image has {width}×{height} = 0 pixels")
            try:
                with _strict_truncation():
                    img.load()
            except Image.DecompressionBombError as exc:
                raise ImageSkip(SkipKind.TOO_LARGE, f"{exc} (possible decompression bomb)") from exc
            except Exception as exc:  # noqa: BLE001 - decoders raise OSError, SyntaxError, ...
                raise ImageSkip(SkipKind.CORRUPT, f"truncated or corrupt image data: {exc}") from exc
        except ImageSkip:
            img.close()
            raise
    if getattr(img, "n_frames", 1) > 1 or getattr(img, "fp", None) is not None:
        # Multi-frame files keep their handle open for seeking; hand back a detached
        # copy of the first frame so callers never leak file descriptors.
        detached = img.copy()
        img.close()
        return detached
    return img


def is_grayscale(img: Image.Image) -> bool:
    """Return True when the image carries no colour information.

    Gray modes (1, L, LA, I, I;16*, F) are gray by definition. Palette images are gray
    when every *used* palette entry has R == G == B. Any other mode (RGB, RGBA, CMYK, ...)
    is gray when, viewed as RGB the way torchvision's loader sees it, R == G == B at every
    pixel — so a grayscale dataset saved as RGB PNGs still counts as grayscale.
    """
    mode = img.mode
    if is_gray_mode(mode):
        return True
    if mode == "P":
        palette = img.getpalette("RGB") or []
        for _count, index in img.getcolors(256) or []:
            rgb = palette[3 * index : 3 * index + 3] or [0, 0, 0]
            if not rgb[0] == rgb[1] == rgb[2]:
                return False
        return True
    rgb_img = img if mode == "RGB" else to_channels(img, 3)
    r, g, b = rgb_img.split()
    return ImageChops.difference(r, g).getbbox() is None and ImageChops.difference(g, b).getbbox() is None


def _high_depth_to_l(img: Image.Image) -> Image.Image:
    arr = np.asarray(img)
    if img.mode == "F":
        # Float images are taken to be in Pillow's 0..255 convention (what convert("L")
        # assumes); NaN becomes 0. Rounded rather than Pillow's truncation.
        arr8 = np.clip(np.rint(np.nan_to_num(arr, nan=0.0)), 0, 255)
    else:
        # 16-bit (and mode "I", assumed to hold 16-bit values) rescaled by 1/257 so 65535
        # maps to 255; Pillow's convert("L") would clip everything above 255 to white.
        arr8 = np.clip(np.rint(arr.astype(np.float64) / 257.0), 0, 255)
    return Image.fromarray(arr8.astype(np.uint8), mode="L")


def to_channels(img: Image.Image, channels: int) -> Image.Image:
    """Convert any supported mode to ``"L"`` (``channels=1``) or ``"RGB"`` (``channels=3``).

    Alpha is dropped, not composited, exactly as torchvision's default ``ImageFolder``
    loader does (``img.convert("RGB")``): the GAN must learn the pixels the user's
    classifier sees. Colour to gray uses Pillow's ITU-R 601-2 luma of that RGB view.
    16-bit and ``I`` images are scaled by 1/257; ``F`` images are clipped to 0..255.

    Raises:
        ImageSkip: the mode cannot be converted (e.g. LAB).
        ValueError: ``channels`` is not 1 or 3 (a programming error).
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    mode = img.mode
    target = "L" if channels == 1 else "RGB"
    if mode == target:
        return img
    if mode in ("I", "F") or _is_16bit(mode):
        gray = _high_depth_to_l(img)
        return gray if channels == 1 else gray.convert("RGB")
    if mode in ("1", "L", "LA") and channels == 1:
        return img.convert("L")
    with warnings.catch_warnings():
        # Pillow nags about palette transparency; dropping it is the intended behaviour.
        warnings.filterwarnings("ignore", message="Palette images with Transparency")
        try:
            rgb = img.convert("RGB")
        except (ValueError, OSError) as exc:
            raise ImageSkip(SkipKind.UNSUPPORTED_MODE, f"unsupported image mode {mode}: {exc}") from exc
    return rgb if channels == 3 else rgb.convert("L")


def resize_center_crop(img: Image.Image, resolution: int) -> Image.Image:
    """Scale the short side to ``resolution`` and center-crop to ``resolution``².

    Implemented as one resample of the centred square of side ``min(W, H)`` (Pillow's
    ``box`` argument), which equals scale-then-crop without rounding the intermediate
    size. LANCZOS with ``reducing_gap=3``: for big downscales Pillow first box-reduces by
    an integer factor, which keeps it fast on multi-megapixel photos with no visible cost.
    """
    width, height = img.size
    side = min(width, height)
    left = (width - side) / 2
    top = (height - side) / 2
    return img.resize(
        (resolution, resolution),
        Image.Resampling.LANCZOS,
        box=(left, top, left + side, top + side),
        reducing_gap=3.0,
    )
