"""Response bodies: generated uint8 images as base64 PNG / ``.npy`` payloads, a PNG grid, and ``GET /model``.

The image codecs are :mod:`augment_gan.runtime.images`; this module only shapes the JSON.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import Any

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
        "label": name, "class_index": index, "seed": seed, "count": count, "format": format,
        "height": gen.resolution, "width": gen.resolution, "channels": gen.channels,
    }
    if format == "npy":
        out.update(shape=list(images.shape), dtype="uint8", npy=b64(npy_bytes(images)))
    else:
        out["images"] = [{"index": k, "label": name, "seed": seed, "png": b64(png_bytes(image))} for k, image in enumerate(images)]
    return out


def grid_png(images: np.ndarray, nrow: int | None = None) -> bytes:
    """``POST /generate_grid``: one PNG, ``nrow`` images per row (default ceil(sqrt(count)))."""
    count = len(images)
    nrow = nrow or math.ceil(math.sqrt(count))
    return png_bytes(grid(images, min(nrow, count)))


def batch_payload(gen: OnnxGenerator, indices: Sequence[int], seeds: Sequence[int], images: np.ndarray) -> list[dict[str, Any]]:
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
