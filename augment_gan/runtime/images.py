"""uint8 (H, W, C) arrays -> PIL images, PNG / npy bytes and grids (numpy + Pillow, no torch)."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image


def to_pil(image: np.ndarray) -> Image.Image:
    """One uint8 (H, W, C) array -> a PIL image (L for C=1, RGB for C=3)."""
    from PIL import Image

    # uint8 (H, W) -> L and (H, W, 3) -> RGB are Pillow's own inferences (its mode= is deprecated).
    return Image.fromarray(np.ascontiguousarray(image[:, :, 0] if image.shape[2] == 1 else image))


def png_bytes(image: np.ndarray) -> bytes:
    """One uint8 (H, W, C) array as PNG bytes."""
    buf = io.BytesIO()
    to_pil(image).save(buf, format="PNG")
    return buf.getvalue()


def npy_bytes(images: np.ndarray) -> bytes:
    """An array as the bytes ``np.save`` writes (``np.load(io.BytesIO(b))`` reads it back)."""
    buf = io.BytesIO()
    np.save(buf, images, allow_pickle=False)
    return buf.getvalue()


def grid(images: np.ndarray, nrow: int, pad: int = 2) -> np.ndarray:
    """(N, H, W, C) uint8 -> one (rows*(H+pad)+pad, nrow*(W+pad)+pad, C) grid, black padding."""
    n, h, w, c = images.shape
    rows = math.ceil(n / nrow)
    out = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), dtype=np.uint8)
    for k, image in enumerate(images):
        r, col = divmod(k, nrow)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + col * (w + pad) : pad + col * (w + pad) + w] = image
    return out
