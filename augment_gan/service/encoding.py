"""Response bodies: generated uint8 images as JSON (base64 PNG / ``.npy``), raw ``.npy``, a zip of PNGs, a grid, ``GET /model``.

The image codecs are :mod:`augment_gan.runtime.images`; this module only shapes the bodies.
``POST /generate`` answers by its ``Accept`` header (:func:`negotiate`): JSON by default,
``application/x-npy`` (or ``application/octet-stream``) for the raw ``np.save`` bytes, and
``application/zip`` for one PNG per image, the bulk formats with no base64 and no JSON around
the pixels.
"""

from __future__ import annotations

import base64
import io
import json
import math
import zipfile
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.images import grid, npy_bytes, png_bytes
from augment_gan.service.schemas import MAX_COUNT


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def generate_payload(gen: OnnxGenerator, index: int, seed: int, images: np.ndarray, format: str) -> dict[str, Any]:
    """``POST /generate``: request fields + one base64 PNG per image, or one base64 ``.npy`` of them all."""
    count = len(images)
    name = gen.classes[index]
    out: dict[str, Any] = {
        "label": name,
        "class_index": index,
        "seed": seed,
        "count": count,
        "format": format,
        "height": gen.resolution,
        "width": gen.resolution,
        "channels": gen.channels,
    }
    if format == "npy":
        out.update(shape=list(images.shape), dtype="uint8", npy=b64(npy_bytes(images)))
    else:
        out["images"] = [
            {"index": k, "label": name, "seed": seed, "png": b64(png_bytes(image))} for k, image in enumerate(images)
        ]
    return out


JSON = "application/json"
NPY = "application/x-npy"
ZIP = "application/zip"
_ACCEPTED = {JSON: JSON, "application/*": JSON, "*/*": JSON, NPY: NPY, "application/octet-stream": NPY, ZIP: ZIP}


class Encoded(NamedTuple):
    """A response: its body, media type and headers."""

    body: bytes
    media_type: str
    headers: dict[str, str]


def negotiate(accept: str) -> str:
    """The media type ``POST /generate`` answers with: the first one ``accept`` lists that it has (JSON otherwise)."""
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in _ACCEPTED:
            return _ACCEPTED[media]
    return JSON


def image_headers(gen: OnnxGenerator, index: int, seed: int) -> dict[str, str]:
    return {
        "X-Augment-Gan-Seed": str(seed),
        "X-Augment-Gan-Label": gen.classes[index],
        "X-Augment-Gan-Class-Index": str(index),
    }


def zip_of_pngs(images: np.ndarray) -> bytes:
    """``000.png``, ``001.png``, ... (stored, not deflated: PNG is compressed already)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        for k, image in enumerate(images):
            archive.writestr(zipfile.ZipInfo(f"{k:03d}.png", date_time=(1980, 1, 1, 0, 0, 0)), png_bytes(image))
    return buf.getvalue()


def encode_generate(gen: OnnxGenerator, index: int, seed: int, images: np.ndarray, format: str, media: str) -> Encoded:
    """``POST /generate`` in ``media`` (see :func:`negotiate`); ``format`` chooses png or npy inside JSON."""
    headers = image_headers(gen, index, seed)
    if media == NPY:
        return Encoded(npy_bytes(images), NPY, headers)
    if media == ZIP:
        return Encoded(zip_of_pngs(images), ZIP, headers)
    return Encoded(json.dumps(generate_payload(gen, index, seed, images, format)).encode(), JSON, headers)


def grid_png(images: np.ndarray, nrow: int | None = None) -> bytes:
    """``POST /generate_grid``: one PNG, ``nrow`` images per row (default ceil(sqrt(count)))."""
    count = len(images)
    nrow = nrow or math.ceil(math.sqrt(count))
    return png_bytes(grid(images, min(nrow, count)))


def batch_payload(
    gen: OnnxGenerator, indices: Sequence[int], seeds: Sequence[int], images: np.ndarray
) -> list[dict[str, Any]]:
    """``POST /generate_batch``: one ``{"label", "class_index", "seed", "png"}`` per item, in order."""
    return [
        {"label": gen.classes[i], "class_index": i, "seed": s, "png": b64(png_bytes(image))}
        for i, s, image in zip(indices, seeds, images, strict=True)
    ]


def model_info(gen: OnnxGenerator) -> dict[str, Any]:
    """``GET /model``: what the model is, its limits, and the quality gate's decision per class."""
    card = gen.card
    gate = card.get("gate", {})
    per_class_metrics = card.get("metrics", {}).get("per_class", {})
    per_gate = gate.get("per_class", {})
    return {
        "name": card.get("name"),
        "version": card.get("version"),
        "created": card.get("created"),
        "classes": gen.classes,
        "resolution": gen.resolution,
        "channels": gen.channels,
        "latent_dim": gen.latent_dim,
        "providers": gen.providers,
        "max_count": MAX_COUNT,
        "gate": {
            "ran": gen.gate_ran,
            "thresholds": gate.get("thresholds"),
            "overall": gate.get("overall"),
            "per_class": {
                c: {
                    "passed": gen.gate_passed(c),
                    "reasons": list(per_gate.get(c, {}).get("reasons", [])) if gen.gate_ran else gen.gate_reasons(c),
                    "metrics": per_class_metrics.get(c, {}),
                }
                for c in gen.classes
            },
        },
        "metrics_overall": card.get("metrics", {}).get("overall"),
        # per-sample selection: on for this service?, and the card's acceptance rates per class
        "selection": {"on": gen.selecting, **card.get("selection", {})},
    }
