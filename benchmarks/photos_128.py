"""A CPU-sized 128 px run on real photographs: the README's 128 px sample grid, and its cost.

The folder: six classes of random 128-176 px crops of scikit-learn's two sample photographs
(``load_sample_images``: china.jpg, flower.jpg), one class per vertical third of a photo
(``china-left`` ... ``flower-right``), 200 crops per class but 25 for the minority classes
``china-right`` and ``flower-left``. ``augment-gan train`` then trains at 128 px with the
demo's nets (g/d width 16) at batch 32 for ``--steps`` steps, and the last checkpoint's
sample grid (one row per class) is saved as ``docs/photos128-grid.jpg`` (JPEG: the PNG is 1.6 MB).

This shows what 128 px training produces in half an hour on two CPU cores; it is not a
quality claim (no FID: the photos give too few disjoint crops for a fair test set).

    python -m benchmarks.photos_128 [--steps 900] [--quick]

JSON: ``benchmarks/results/photos_128.json`` (steps, seconds per step, where the grid is).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from . import common

PHOTOS = ("china", "flower")
BANDS = ("left", "middle", "right")
MINORITY = ("china-right", "flower-left")
PRESETS = {  # grid: where the last sample grid goes (None: beside the JSON)
    "full": {
        "counts": {"major": 200, "minor": 25},
        "steps": 900,
        "width": 16,
        "batch": 32,
        "grid": "docs/photos128-grid.jpg",
    },
    "quick": {"counts": {"major": 8, "minor": 4}, "steps": 2, "width": 4, "batch": 8, "grid": None},
}


def write_photo_folder(root: Path, counts: dict[str, int], seed: int = 0) -> dict[str, int]:
    """root/<photo>-<band>/crop-XXXX.jpg: random square crops (128-176 px) inside one third
    of a photo. Returns the images per class."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    written = {}
    for photo_name, photo in zip(PHOTOS, load_sample_images().images):
        height, width = photo.shape[:2]
        edges = np.linspace(0, width, len(BANDS) + 1).astype(int)
        for b, band in enumerate(BANDS):
            name = f"{photo_name}-{band}"
            n = counts["minor" if name in MINORITY else "major"]
            rng = np.random.default_rng([seed, len(written)])
            (root / name).mkdir(parents=True)
            for k in range(n):
                size = int(rng.integers(128, min(177, edges[b + 1] - edges[b] + 1)))
                y = int(rng.integers(0, height - size + 1))
                x = int(rng.integers(edges[b], edges[b + 1] - size + 1))
                Image.fromarray(photo[y : y + size, x : x + size]).save(root / name / f"crop-{k:04d}.jpg", quality=92)
            written[name] = n
    return written


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, help="training steps (default 900; quick 2)")
    p.add_argument("--out", type=Path, default=None)
    a = common.parse_args(p, PRESETS)
    budget = common.budget(a, PRESETS[a.preset])
    counts, steps, batch = budget["counts"], budget["steps"], budget["batch"]
    nets = ["--g-width", str(budget["width"]), "--d-width", str(budget["width"])]
    out = a.out or common.default_out("photos_128", a.preset)
    with tempfile.TemporaryDirectory() as tmp:
        folder, models = Path(tmp) / "photos", Path(tmp) / "models"
        per_class = write_photo_folder(folder, counts)
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "augment_gan.cli",
                "train",
                str(folder),
                "--name",
                "photos",
                "--models-dir",
                str(models),
                "--resolution",
                "128",
                *nets,
                "--batch-size",
                str(batch),
                "--steps",
                str(steps),
                "--checkpoint-every",
                str(max(1, steps // 3)),
                "--eval-every",
                "0",
            ],
            check=True,
            cwd=common.REPO,
        )
        seconds = time.perf_counter() - t0
        (run_dir,) = (models / "photos" / "runs").iterdir()
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        sec_per_step = [r["sec_per_step"] for r in records if "sec_per_step" in r]
        grid = sorted((run_dir / "samples").glob("step-*.png"))[-1]
        target = common.REPO / budget["grid"] if budget["grid"] else out.with_suffix(".jpg")
        with Image.open(grid) as img:
            img.convert("RGB").save(target, quality=90)
    result = {
        "benchmark": "photos_128",
        "command": common.command_line(),
        "preset": a.preset,
        "date": time.strftime("%Y-%m-%d"),
        "classes": per_class,
        "resolution": 128,
        "nets": {"g_width": budget["width"], "d_width": budget["width"]},
        "batch_size": batch,
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "median_sec_per_step": round(float(np.median(sec_per_step)), 3),
        "grid": common.shown_path(target),
        **common.provenance(),
    }
    common.finish(result)
    common.write_json(out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
