"""Sample grids: one row per class, fixed noise, so grids from different steps compare."""

from __future__ import annotations

import io
from pathlib import Path

import torch
from PIL import Image

from augment_gan.fileio import atomic_write_bytes

__all__ = ["to_uint8", "fixed_noise", "make_grid", "save_sample_grid", "combine_rows"]


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float -> [0, 255] uint8 with rounding (the same mapping the export uses)."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def fixed_noise(num_classes: int, columns: int, latent_dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """z and labels for a grid: row c holds ``columns`` samples of class c."""
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(num_classes * columns, latent_dim, generator=rng)
    labels = torch.arange(num_classes).repeat_interleave(columns)
    return z, labels


def make_grid(images: torch.Tensor, rows: int, padding: int = 2) -> Image.Image:
    """uint8 (N, C, H, W) -> one PIL image, ``rows`` rows, dark padding between tiles."""
    n, c, h, w = images.shape
    cols = (n + rows - 1) // rows
    grid = torch.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), 32, dtype=torch.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[:, top : top + h, left : left + w] = images[i]
    array = grid.permute(1, 2, 0).numpy()
    return Image.fromarray(array[:, :, 0] if c == 1 else array, mode="L" if c == 1 else "RGB")


@torch.no_grad()
def save_sample_grid(generator: torch.nn.Module, z: torch.Tensor, labels: torch.Tensor, rows: int, path: Path) -> None:
    device = next(generator.parameters()).device
    images = to_uint8(generator(z.to(device), labels.to(device)).cpu())
    buffer = io.BytesIO()
    make_grid(images, rows).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())


def combine_rows(grids: list[Path], pick: list[int], padding: int = 2) -> bytes:
    """One PNG whose row c is row c of ``grids[pick[c]]`` (sample grids of the same run, one
    row per class): the grid of a model whose classes come from different steps."""
    import numpy as np

    arrays = [np.asarray(Image.open(path)) for path in grids]
    out = arrays[pick[0]].copy()
    band = (out.shape[0] - padding) // len(pick)  # a row's tiles and the padding below them
    for c, k in enumerate(pick):
        out[c * band : (c + 1) * band + padding] = arrays[k][c * band : (c + 1) * band + padding]
    buffer = io.BytesIO()
    Image.fromarray(out).save(buffer, format="PNG")
    return buffer.getvalue()
