"""Response bodies: base64 PNG / .npy payloads and the PNG grid decode back to the generated pixels."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augment_gan.runtime.generator import OnnxGenerator
from tests.export.helpers import CLASSES, gate

pytest.importorskip("bentoml", reason="bentoml is not installed in this environment")

from augment_gan.service.encoding import (  # noqa: E402
    JSON,
    NPY,
    ZIP,
    batch_payload,
    encode_generate,
    generate_payload,
    grid_png,
    negotiate,
)

GEN = OnnxGenerator(
    Path("m/v1"), {"classes": CLASSES, "resolution": 4, "channels": 1, "latent_dim": 8, "gate": gate(CLASSES)}
)


def images(n: int) -> np.ndarray:
    return np.random.default_rng(n).integers(0, 256, (n, 4, 4, 1), dtype=np.uint8)


def png_pixels(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))[:, :, None]


def test_png_payload():
    batch = images(3)
    out = generate_payload(GEN, 1, 42, batch, "png")
    assert {k: out[k] for k in ("label", "class_index", "seed", "count", "format", "height", "width", "channels")} == {
        "label": "dog",
        "class_index": 1,
        "seed": 42,
        "count": 3,
        "format": "png",
        "height": 4,
        "width": 4,
        "channels": 1,
    }
    assert [(im["index"], im["label"], im["seed"]) for im in out["images"]] == [
        (0, "dog", 42),
        (1, "dog", 42),
        (2, "dog", 42),
    ]
    np.testing.assert_array_equal(np.stack([png_pixels(im["png"]) for im in out["images"]]), batch)
    assert "npy" not in out


def test_npy_payload():
    batch = images(2)
    out = generate_payload(GEN, 0, 7, batch, "npy")
    assert out["shape"] == [2, 4, 4, 1] and out["dtype"] == "uint8" and "images" not in out
    np.testing.assert_array_equal(np.load(io.BytesIO(base64.b64decode(out["npy"])), allow_pickle=False), batch)


@pytest.mark.parametrize(
    ("n", "nrow", "size"),
    [
        (5, None, (3 * 6 + 2, 2 * 6 + 2)),  # default: ceil(sqrt(5)) = 3 per row; 4 px + 2 px padding
        (2, 8, (2 * 6 + 2, 1 * 6 + 2)),  # never more per row than images
        (6, 1, (1 * 6 + 2, 6 * 6 + 2)),
    ],
)
def test_grid_png(n, nrow, size):
    batch = images(n)
    image = Image.open(io.BytesIO(grid_png(batch, nrow)))
    assert image.format == "PNG" and image.size == size
    np.testing.assert_array_equal(np.asarray(image)[2:6, 2:6], batch[0, :, :, 0])


def test_batch_payload_keeps_the_item_order():
    batch = images(3)
    out = batch_payload(GEN, [2, 0, 2], [9, 8, 7], batch)
    assert [(o["label"], o["class_index"], o["seed"]) for o in out] == [("eel", 2, 9), ("cat", 0, 8), ("eel", 2, 7)]
    np.testing.assert_array_equal(np.stack([png_pixels(o["png"]) for o in out]), batch)


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("application/x-npy", NPY),
        ("application/octet-stream", NPY),
        ("application/zip", ZIP),
        ("text/html, application/zip;q=0.5", ZIP),
        ("image/png", JSON),
        ("APPLICATION/X-NPY", NPY),
    ],
)
def test_negotiate(accept: str, media: str):
    assert negotiate(accept) == media


def test_binary_bodies_hold_the_same_pixels():
    import json
    import zipfile

    batch = images(3)
    npy = encode_generate(GEN, 2, 9, batch, "png", NPY)
    assert npy.media_type == NPY and npy.headers == {
        "X-Augment-Gan-Seed": "9",
        "X-Augment-Gan-Label": "eel",
        "X-Augment-Gan-Class-Index": "2",
    }
    np.testing.assert_array_equal(np.load(io.BytesIO(npy.body), allow_pickle=False), batch)
    with zipfile.ZipFile(io.BytesIO(encode_generate(GEN, 2, 9, batch, "png", ZIP).body)) as archive:
        pngs = [np.asarray(Image.open(io.BytesIO(archive.read(n))))[:, :, None] for n in archive.namelist()]
    np.testing.assert_array_equal(np.stack(pngs), batch)
    assert json.loads(encode_generate(GEN, 2, 9, batch, "npy", JSON).body) == generate_payload(GEN, 2, 9, batch, "npy")
