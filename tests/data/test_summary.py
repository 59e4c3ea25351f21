from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from augment_gan.contracts.manifest import MANIFEST_NAME
from augment_gan.data.images import load_image_folder
from augment_gan.data.summary import format_summary_table, summarize


def _dataset(root: Path, solid) -> None:
    solid(root / "cat" / "1.png", size=(40, 30))
    solid(root / "cat" / "2.png", size=(40, 30))
    solid(root / "cat" / "3.png", size=(40, 30))
    solid(root / "cat" / "4.png", 9, size=(10, 10))
    solid(root / "cat" / "5.png", size=(300, 200), mode="RGBA")
    solid(root / "dog" / "1.png", size=(20, 20))
    solid(root / "dog" / "2.png", 9, size=(50, 5))
    solid(root / "dog" / "gen.png", size=(32, 32))
    (root / "dog" / "bad.jpg").write_text("nope")
    entry = {"path": "dog/gen.png", "sha256": "0" * 64, "class": "dog", "seed": 0, "index": 0}
    (root / MANIFEST_NAME).write_text(json.dumps({"version": 1, "files": [entry]}))


def test_summarize(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    _dataset(root, solid)
    summary = summarize(load_image_folder(root, progress=False))
    assert summary == {
        "root": str(root.resolve()),
        "classes": {"cat": 5, "dog": 2},
        "num_images": 7,
        "imbalance_ratio": 2.5,
        "channels": 3,
        "modes": {"L": 2, "RGB": 4, "RGBA": 1},
        "sizes": {
            # by pixel count: 10×10=100, 20×20=400, 50×5=250, 40×30=1200 (×3), 300×200
            "min": [10, 10],
            "median": [40, 30],
            "max": [300, 200],
            "most_common": [[40, 30, 3], [10, 10, 1], [20, 20, 1], [50, 5, 1], [300, 200, 1]],
        },
        "skipped": [
            {"path": "dog/bad.jpg", "kind": "not-an-image", "reason": "not an image (cannot identify image file)"}
        ],
        "synthetic_excluded": 1,
    }
    json.dumps(summary)  # must be JSON-able as is


def test_imbalance_ratio_rounding(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    for i in range(3):
        solid(root / "a" / f"{i}.png")
        solid(root / "b" / f"{i}.png")
        solid(root / "c" / f"{i}.png")
    for i in range(3, 7):
        solid(root / "a" / f"{i}.png")
    summary = summarize(load_image_folder(root, progress=False))
    assert summary["classes"] == {"a": 7, "b": 3, "c": 3}
    assert summary["imbalance_ratio"] == 2.33


def test_format_summary_table(tmp_path: Path, solid) -> None:
    root = tmp_path / "ds"
    _dataset(root, solid)
    console = Console(record=True, width=200, color_system=None)
    console.print(format_summary_table(summarize(load_image_folder(root, progress=False))))
    text = console.export_text()
    assert "7 images, 2 classes, 3 channel(s), imbalance 2.5x" in text
    assert "1 generated images excluded" in text
    cat_line = next(line for line in text.splitlines() if "│ cat" in line)
    dog_line = next(line for line in text.splitlines() if "│ dog" in line)
    assert "█" * 30 in cat_line and "█" * 12 in dog_line and "█" * 13 not in dog_line
    assert "dog/bad.jpg" in text and "not an image (cannot identify image file)" in text
    assert "median 40×30" in text
