"""A new user's first job: ``augment-gan run DATA --name NAME --out OUT`` with every default, timed.

The command line a user types, run as a subprocess on a folder like theirs:

* ``mnist``: an imbalanced MNIST t10k folder, seven digits of ``n_major`` images and three
  (drawn by the seed) of ``small`` images each (5, 12, 30: about 2,850 images);
* ``rgb``: 64 px photo crops (scikit-learn's two sample photographs, six classes: four of
  ``rgb_major`` crops, two of ``rgb_minor``; about 180 images).

Recorded: the wall time, each class's step (eval/best.json's ``per_class``) and gate
verdict with its reasons, the synthetic files written per class, and the command's last
lines. What it checks is what the user sees: does every small class that passes the gate at
some evaluated step get samples, and does every other class get its reason printed.

Run: ``python -m benchmarks.run_defaults [--data mnist|rgb] [--preset quick|full]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import DEFAULT_MNIST, budget, command_line, default_out, parse_args, provenance, save, work_dir
from .mnist import load_mnist, write_folder

PRESETS: dict[str, dict[str, Any]] = {
    # a smoke run: the code path end to end (a few steps), figures meaningless
    "quick": dict(n_major=40, small=(5, 12, 30), rgb_major=10, rgb_minor=5, extra=["--steps", "4", "--checkpoint-every", "2", "--eval-samples", "20", "--judge-steps", "5"]),
    # every default
    "full": dict(n_major=400, small=(5, 12, 30), rgb_major=40, rgb_minor=10, extra=[]),
}  # fmt: skip


def write_mnist(root: Path, mnist: Path, p: dict[str, Any], seed: int) -> dict[str, int]:
    """The imbalanced MNIST folder; returns images per class."""
    images, labels = load_mnist(mnist)
    rng = np.random.default_rng(seed)
    small = dict(zip(sorted(int(d) for d in rng.choice(10, size=len(p["small"]), replace=False)), p["small"]))
    part = {d: rng.permutation(np.flatnonzero(labels == d))[: small.get(d, p["n_major"])].tolist() for d in range(10)}
    write_folder(root, images, part)
    return {str(d): len(idx) for d, idx in part.items()}


def write_rgb(root: Path, p: dict[str, Any], seed: int) -> dict[str, int]:
    """The photo-crop folder; returns images per class."""
    from sklearn.datasets import load_sample_images

    from .datasets import RGB_CLASSES, make_rgb_crops, write_rgb_split

    counts = {"train_major": p["rgb_major"], "train_minor": p["rgb_minor"], "val": 1, "test": 1}
    crops = make_rgb_crops(list(load_sample_images().images), counts, seed=seed)
    write_rgb_split(root, crops["train"])
    return {RGB_CLASSES[c]: len(crops["train"][c][0]) for c in crops["train"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("mnist", "rgb"), default="mnist")
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    parser.add_argument("--seed", type=int, default=0, help="which digits are small")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the folder, models and output here")
    args = parse_args(parser, PRESETS, default="full")
    p = budget(args, PRESETS[args.preset])
    out = args.out or default_out(f"run_defaults-{args.data}", args.preset)
    with work_dir(args.keep, "run-defaults-") as work:
        data = work / "data"
        counts = write_mnist(data, args.mnist, p, args.seed) if args.data == "mnist" else write_rgb(data, p, args.seed)
        cmd = [sys.executable, "-m", "augment_gan.cli", "run", str(data), "--name", args.data]
        cmd += ["--models-dir", str(work / "models"), "--out", str(work / "synthetic"), *p["extra"]]
        print(f"{sum(counts.values())} images, per class {counts}\n$ augment-gan {' '.join(cmd[3:])}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n", flush=True)
        run_dir = next((work / "models" / args.data / "runs").iterdir())
        best = json.loads((run_dir / "eval" / "best.json").read_text())
        reports = {
            int(f.stem.split("-")[1]): json.loads(f.read_text()) for f in sorted((run_dir / "eval").glob("step-*.json"))
        }
        written = {
            name: len(list((work / "synthetic" / name).glob("*"))) if (work / "synthetic" / name).is_dir() else 0
            for name in counts
        }
        classes = {
            name: {
                "images": n,
                "step": best["per_class"][name]["step"],
                "passed_at": [s for s in sorted(reports) if reports[s]["gate"]["per_class"][name]["passed"]],
                "reasons_at_step": reports[best["per_class"][name]["step"]]["gate"]["per_class"][name]["reasons"],
                "written": written[name],
                "reason_printed": f"class {name} gets no samples" in proc.stdout,
            }
            for name, n in counts.items()
        }
    # the classes balancing fills: fewer images than the biggest (--target max)
    small = [name for name, c in classes.items() if c["images"] < max(c["images"] for c in classes.values())]
    result = {
        "benchmark": "run_defaults",
        "command": command_line(),
        "preset": args.preset,
        "data": args.data,
        "budget": p,
        "exit_code": proc.returncode,
        "seconds": round(seconds, 1),
        "images": sum(counts.values()),
        "classes": classes,
        "small_classes": small,
        "small_passing_somewhere_get_samples": all(classes[n]["written"] > 0 for n in small if classes[n]["passed_at"]),
        "every_other_class_explained": all(
            classes[n]["reason_printed"] for n in classes if not classes[n]["passed_at"]
        ),
        "stdout_tail": proc.stdout[-4000:],
        **provenance(),
    }
    print(
        f"{args.data}: {seconds / 60:.1f} min, exit {proc.returncode}; small classes "
        + "; ".join(
            f"{n}: step {classes[n]['step']}, passes at {classes[n]['passed_at']}, wrote {classes[n]['written']}"
            for n in small
        )
    )
    save(out, result)


if __name__ == "__main__":
    main()
