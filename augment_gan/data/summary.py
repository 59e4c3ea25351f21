"""The ``inspect`` report: a JSON-able summary of a loaded folder and its rich rendering."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from augment_gan.data.images import ImageData, load_image_folder

_BAR_WIDTH = 30
_MOST_COMMON = 5


def _size_stats(sizes: list[tuple[int, int]]) -> dict[str, Any]:
    if not sizes:
        return {"min": None, "median": None, "max": None, "most_common": []}
    # Ordered by pixel count (ties by W, H) so min/median/max are real image sizes rather
    # than a mix of one image's width and another's height; median is the lower one.
    ordered = sorted(sizes, key=lambda wh: (wh[0] * wh[1], wh[0], wh[1]))
    counts = Counter(sizes)
    common = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:_MOST_COMMON]
    return {
        "min": list(ordered[0]),
        "median": list(ordered[(len(ordered) - 1) // 2]),
        "max": list(ordered[-1]),
        "most_common": [[w, h, n] for (w, h), n in common],
    }


def summarize(data: ImageData) -> dict[str, Any]:
    """Return the ``inspect`` report of a loaded folder as plain JSON-able values.

    ``imbalance_ratio`` is largest / smallest class count rounded to 2 decimals; sizes are
    the original (W, H) of the usable images, see :func:`_size_stats` for the ordering.
    """
    counts = data.class_counts()
    smallest = min(counts.values(), default=0)
    ratio = round(max(counts.values()) / smallest, 2) if smallest > 0 else None
    return {
        "root": data.root,
        "classes": counts,
        "num_images": int(data.labels.numel()),
        "imbalance_ratio": ratio,
        "channels": data.channels,
        "modes": dict(sorted(Counter(data.modes).items())),
        "sizes": _size_stats(data.sizes),
        "skipped": [{"path": s.path, "kind": s.kind and s.kind.value, "reason": s.reason} for s in data.skipped],
        "synthetic_excluded": data.synthetic_excluded,
    }


def inspect(data_dir: str | os.PathLike[str], *, strict: bool = False, progress: bool = True) -> dict[str, Any]:
    """Load ``data_dir`` and return its :func:`summarize` report (``augment-gan inspect``).

    ``strict``: DataError if any file would be skipped. Example::

        inspect("data/train")["classes"]   # {'cat': 120, 'dog': 14}
    """
    return summarize(load_image_folder(data_dir, strict=strict, progress=progress))


def format_summary_table(summary: dict[str, Any]) -> Group:
    """Render a :func:`summarize` report: header line, per-class table with bars, skips."""
    counts: dict[str, int] = summary["classes"]
    largest = max(counts.values(), default=0)
    header = Text.assemble(
        (summary["root"], "bold"),
        f"\n{summary['num_images']} images, {len(counts)} classes, "
        f"{summary['channels']} channel(s), imbalance {summary['imbalance_ratio']}x",
    )
    if summary["synthetic_excluded"]:
        header.append(f", {summary['synthetic_excluded']} generated images excluded")

    classes = Table(title="Images per class", title_justify="left")
    classes.add_column("class")
    classes.add_column("images", justify="right")
    classes.add_column("share", justify="left")
    for name, count in counts.items():
        width = round(_BAR_WIDTH * count / largest) if largest else 0
        classes.add_row(Text(name), str(count), Text("█" * width, style="cyan"))  # a name is not markup

    sizes = summary["sizes"]
    parts: list[Any] = [header, classes]
    if sizes["min"] is not None:
        modes = ", ".join(f"{mode}: {n}" for mode, n in summary["modes"].items())
        common = ", ".join(f"{w}×{h} ({n})" for w, h, n in sizes["most_common"])
        parts.append(
            Text(
                f"sizes (W×H): min {sizes['min'][0]}×{sizes['min'][1]}, "
                f"median {sizes['median'][0]}×{sizes['median'][1]}, "
                f"max {sizes['max'][0]}×{sizes['max'][1]}; most common {common}\n"
                f"modes: {modes}"
            )
        )
    if summary["skipped"]:
        skipped = Table(title=f"Skipped files ({len(summary['skipped'])})", title_justify="left")
        skipped.add_column("file")
        skipped.add_column("reason")
        for item in summary["skipped"]:
            skipped.add_row(Text(item["path"]), Text(item["reason"]))
        parts.append(skipped)
    return Group(*parts)
