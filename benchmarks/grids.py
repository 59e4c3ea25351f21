"""Per-class sample grids beside real images: a row per class (small classes marked *), the
generated samples, a gap, then real images. Gray images only."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np


def compose_grid(fakes: np.ndarray, reals: np.ndarray, pad: int = 2, gap: int = 10) -> np.ndarray:
    """uint8 (classes, n_fake, H, W) and (classes, n_real, H, W) -> one gray image: a row per
    class, the generated samples, a gap, then the real images."""
    k, n_f, h, w = fakes.shape
    n_r = reals.shape[1]
    width = pad + n_f * (w + pad) + gap + n_r * (w + pad)
    grid = np.full((pad + k * (h + pad), width), 32, dtype=np.uint8)
    grid[:, pad + n_f * (w + pad) - pad // 2 : pad + n_f * (w + pad) + gap - pad] = 96  # separator
    for c in range(k):
        top = pad + c * (h + pad)
        for i in range(n_f):
            left = pad + i * (w + pad)
            grid[top : top + h, left : left + w] = fakes[c, i]
        for i in range(n_r):
            left = pad + n_f * (w + pad) + gap + i * (w + pad)
            grid[top : top + h, left : left + w] = reals[c, i]
    return grid


def grid_png(
    fakes: np.ndarray,
    reals: np.ndarray,
    classes: list[str],
    minority: list[str],
    title: str,
    scale: int,
    levels: int = 256,
    real_label: str = "real (held-out)",
) -> bytes:
    """The grid with class labels on the left (minority marked *) and a title, as PNG bytes."""
    from PIL import Image, ImageDraw, ImageFont

    if levels < 256:
        step = 256 // levels
        fakes, reals = (fakes // step) * step, (reals // step) * step

    body = Image.fromarray(compose_grid(fakes, reals), mode="L")
    body = body.resize((body.width * scale, body.height * scale), Image.NEAREST)
    left, top = 28, 18
    canvas = Image.new("L", (body.width + left, body.height + top), 0)
    canvas.paste(body, (left, top))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    draw.text((left, 3), title, fill=220, font=font)
    real_x = left + scale * (2 + fakes.shape[1] * (fakes.shape[3] + 2) + 10)
    draw.text((real_x, 3), real_label, fill=220, font=font)
    row_h = scale * (fakes.shape[2] + 2)
    for c, name in enumerate(classes):
        star = "*" if name in minority else ""
        draw.text((4, top + c * row_h + row_h // 2 - 6), name + star, fill=255 if star else 200, font=font)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def save_grid(
    path: Path,
    fakes: np.ndarray,
    reals: np.ndarray,
    classes: list[str],
    minority: list[str],
    title: str,
    max_bytes: int = 100_000,
    real_label: str = "real (held-out)",
) -> dict:
    """The grid, upscaled x2 unless that makes the PNG larger than ``max_bytes``; then x1, and
    then x1 with 32 gray levels (noisy samples of a quick run do not compress)."""
    for scale, levels in ((2, 256), (1, 256), (1, 32)):
        png = grid_png(fakes, reals, classes, minority, title, scale, levels, real_label)
        if len(png) <= max_bytes:
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return {"bytes": len(png), "scale": scale, "gray_levels": levels}


def model_grid(
    model_dir: Path,
    train_images: dict[int, np.ndarray],
    classes: list[str],
    minority: list[str],
    path: Path,
    title: str,
) -> dict:
    """10 samples per class from a promoted gray model (seed 0) beside 5 of the class's
    TRAINING images (resized to the model's side), so copies of a small class's few images show."""
    from PIL import Image

    from augment_gan.runtime import OnnxGenerator

    gen = OnnxGenerator.load(model_dir, providers=["CPUExecutionProvider"], intra_op_threads=1)
    fakes = np.stack([gen.generate(c, 10, seed=0)[..., 0] for c in classes])
    side = fakes.shape[-1]
    reals = np.stack(
        [
            [
                np.asarray(Image.fromarray(img).resize((side, side), Image.Resampling.BILINEAR))
                for img in train_images[i][:5]
            ]
            for i in range(len(classes))
        ]
    )
    return save_grid(path, fakes, reals, classes, minority, title, real_label="real (training)")
