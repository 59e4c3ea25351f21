"""What promote writes for per-sample selection: ``judge.onnx``, ``selection.npz``,
``selection.png`` and the card's ``selection`` (acceptance per class).

The acceptance rates and the sheet come from the exported generator and judge, run with
onnxruntime exactly as the consumers run them, on the unselected stream's first candidates.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from augment_gan.contracts.model_dir import JUDGE_NAME, SELECTION_NAME, SELECTION_SHEET_NAME
from augment_gan.contracts.selection import (
    COPY_QUANTILE,
    COPY_RATIO,
    MAX_ATTEMPTS,
    MIN_COPY_RATIO,
    SUPPORT_K,
    SUPPORT_QUANTILE,
    Checks,
    build_reference,
    pixel_vectors,
    reference_bytes,
    verdicts,
)
from augment_gan.evaluation.domain import DomainJudge
from augment_gan.export.judge_export import INPUT_NAME, OUTPUT_NAMES, export_judge_onnx
from augment_gan.export.onnx_export import cpu_session


def selection_files(
    judge: DomainJudge,
    per_class: list[dict[str, np.ndarray]],
    onnx_bytes: bytes,
    classes: Sequence[str],
    latent_dim: int,
) -> tuple[dict[str, bytes], dict[str, Any], Any]:
    """(files for the model dir, the card's ``selection``, ``selected(c, n)``) from the run's
    judge and :func:`~augment_gan.evaluation.evaluate.selection_inputs`' ``per_class``.
    ``selected(c, n)`` returns ``n`` selected samples of class c (uint8 NHWC), as a consumer
    would get them, for the utility check."""
    parity = np.concatenate([c["train_images"][:4] for c in per_class if len(c["train_images"])])
    judge_bytes = export_judge_onnx(judge, torch.from_numpy(parity.transpose(0, 3, 1, 2).copy()))
    reference = build_reference(per_class)
    generator, judge_session = cpu_session(onnx_bytes), cpu_session(judge_bytes)

    def generate(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return generator.run(["images"], {"z": z, "label": labels})[0].transpose(0, 2, 3, 1)

    def run_judge(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        logits, features = judge_session.run(list(OUTPUT_NAMES), {INPUT_NAME: x})
        return logits, features

    def selected(c: int, n: int, seed: int = 1) -> np.ndarray:
        rng, kept, rejected = np.random.default_rng([seed, c]), [], []
        for _ in range(MAX_ATTEMPTS):
            labels = np.full(n, c, dtype=np.int64)
            images = generate(rng.standard_normal((n, latent_dim), dtype=np.float32), labels)
            ok = verdicts(*run_judge(images), pixel_vectors(images), labels, reference).accepted
            kept.append(images[ok])
            rejected.append(images[~ok])
            if sum(map(len, kept)) >= n:
                break
        return np.concatenate(kept + rejected)[:n]  # rejected ones only if too few passed

    card, sheet = acceptance(generate, run_judge, reference, classes, latent_dim)
    files = {JUDGE_NAME: judge_bytes, SELECTION_NAME: reference_bytes(reference), SELECTION_SHEET_NAME: sheet}
    return files, card, selected


REASON_COLOURS = {
    "judged another class": (220, 40, 40),
    "near-copy of a training image": (240, 160, 0),
    "outside the real images' support": (60, 110, 230),
}


def acceptance(
    generate: Any,
    judge: Any,
    reference: dict[str, np.ndarray],
    classes: Sequence[str],
    latent_dim: int,
    *,
    n: int = 256,
    seed: int = 0,
    show: int = 8,
) -> tuple[dict[str, Any], bytes]:
    """The card's ``selection`` entry and a PNG sheet, from ``n`` candidates per class (the
    unselected stream). Card: per class, the share that pass and the share failing each
    test. Sheet: one row per class, its first ``show`` accepted samples, then its first
    ``show`` rejected ones framed in the colour of their first reason (red: judged another
    class; amber: near-copy; blue: outside the support). ``generate(z, labels)`` returns
    uint8 (N, H, W, C); ``judge(images)`` returns (logits, features)."""
    rng = np.random.default_rng(seed)
    per_class, rows = {}, []
    for c, name in enumerate(classes):
        labels = np.full(n, c, dtype=np.int64)
        images = generate(rng.standard_normal((n, latent_dim), dtype=np.float32), labels)
        checks = verdicts(*judge(images), pixel_vectors(images), labels, reference)
        rows.append((name, images, checks))
        ref = reference
        per_class[name] = {
            "acceptance": float(checks.accepted.mean()),
            "rejected_class": float((~checks.class_ok).mean()),
            "rejected_copy": float((checks.copy_pixels | checks.copy_features).mean()),
            "rejected_support": float((~checks.in_support).mean()),
            "n_candidates": n,
            "n_train": int(len(ref[f"pixels_{c}"])),
            "n_support": int(len(ref[f"support_{c}"])),
            "tau": float(reference["tau"][c]),
            "copy_bar_pixels": float(reference["copy_bar"][c][0]),
            "copy_bar_features": float(reference["copy_bar"][c][1]),
        }
    card = {
        "format": 1,
        "copy_ratio": COPY_RATIO,
        "copy_quantile": COPY_QUANTILE,
        "min_copy_ratio": MIN_COPY_RATIO,
        "support_k": SUPPORT_K,
        "support_quantile": SUPPORT_QUANTILE,
        "max_attempts": MAX_ATTEMPTS,
        "n_candidates": n,
        "per_class": per_class,
    }
    return card, _sheet(rows, show)


def _sheet(rows: list[tuple[str, np.ndarray, Checks]], show: int) -> bytes:
    from PIL import Image, ImageDraw

    h, w = rows[0][1].shape[1:3]
    scale = max(1, 64 // max(h, w))
    tile, frame, gap, label_w, head = h * scale + 6, 3, 24, 40, 22
    width = label_w + 2 * show * tile + gap
    sheet = Image.new("RGB", (width, head + len(rows) * tile), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((label_w, 5), "accepted (first in stream order)", fill="black")
    draw.text((label_w + show * tile + gap, 5), "rejected: red class, amber copy, blue support", fill="black")
    for r, (name, images, checks) in enumerate(rows):
        y = head + r * tile
        draw.text((4, y + tile // 2 - 6), name[:6], fill="black")
        reasons = checks.reasons()
        kept = np.flatnonzero(checks.accepted)[:show]
        dropped = np.flatnonzero(~checks.accepted)[:show]
        for i, x0 in [(i, label_w + j * tile) for j, i in enumerate(kept)] + [
            (i, label_w + show * tile + gap + j * tile) for j, i in enumerate(dropped)
        ]:
            img = Image.fromarray(np.ascontiguousarray(images[i][:, :, 0] if images.shape[3] == 1 else images[i]))
            img = img.convert("RGB").resize((w * scale, h * scale), Image.Resampling.NEAREST)
            if reasons[i]:
                draw.rectangle([x0, y, x0 + tile - 2, y + tile - 2], fill=REASON_COLOURS[reasons[i][0]])
            sheet.paste(img, (x0 + frame, y + frame))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()


def report_section(card: dict[str, Any], sheet: bytes) -> str:
    """The model dir's report.html section on per-sample selection: acceptance per class and
    the sheet of accepted beside rejected samples."""
    import base64

    rows = "".join(
        f"<tr><td class='l'>{html.escape(name)}</td><td>{e['acceptance']:.0%}</td><td>{e['rejected_class']:.0%}</td>"
        f"<td>{e['rejected_copy']:.0%}</td><td>{e['rejected_support']:.0%}</td>"
        f"<td>{e['n_train']}</td><td>{e['n_support']}</td></tr>"
        for name, e in card["per_class"].items()
    )
    return (
        "<h2>Per-sample selection: accepted and rejected samples</h2>"
        f"<p class='small'>Of {card['n_candidates']} unselected samples per class, the share every consumer keeps "
        "(the judge assigns it to its class, it copies no training image in pixels or judge features, and it is at "
        f"least as typical as {1 - card['support_quantile']:.0%} of the class's real images), and the share failing "
        "each test (a sample can fail several). Rejected samples are replaced by the next candidate.</p>"
        "<table><tr><th class='l'>class</th><th>accepted</th><th>wrong class</th><th>copy</th><th>outside support"
        "</th><th>training images</th><th>support images</th></tr>" + rows + "</table>"
        f"<p><img class='sheet' src='data:image/png;base64,{base64.b64encode(sheet).decode()}' "
        "alt='accepted (left) and rejected (right) samples per class'></p>"
    )
