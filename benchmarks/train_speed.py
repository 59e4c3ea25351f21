"""Training speed of our Trainer on this machine: seconds per step and images/s at batch 64.

Real images (the embedded digits folder at 32x32) through the real ``Trainer.train_step``
(n_critic D steps + 1 G step + EMA update, DiffAugment on), for the CLI default nets and
the demo's smaller nets. Configs are interleaved step by step so background load hits both
alike; the median over steps is reported. JSON: ``benchmarks/results/train_speed.json``.

    python benchmarks/train_speed.py [--steps 30] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from augment_gan.data import load_image_folder
from augment_gan.data.digits import write_digits_folder
from augment_gan.nets import NetConfig
from augment_gan.training import TrainConfig, Trainer

CONFIGS = {
    "cli default (g_width 32, d_width 32)": dict(g_width=32, d_width=32),
    "demo (g_width 16, d_width 16)": dict(g_width=16, d_width=16),
}


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    steps = 5 if args.quick else args.steps
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "digits"
        write_digits_folder(folder)
        data = load_image_folder(folder, progress=False)
        cfg = TrainConfig(batch_size=64)
        trainers = {}
        for name, widths in CONFIGS.items():
            net = NetConfig(num_classes=len(data.classes), channels=data.channels, **widths)
            trainers[name] = Trainer(Path(tmp) / name.split()[0], data.images, data.labels, net, cfg)
            trainers[name].train_step()  # warm-up
        times: dict[str, list[float]] = {name: [] for name in trainers}
        for _ in range(steps):
            for name, trainer in trainers.items():
                t0 = time.perf_counter()
                trainer.train_step()
                times[name].append(time.perf_counter() - t0)
    results = []
    for name, ts in times.items():
        med = statistics.median(ts)
        results.append({"config": name, "batch_size": 64, "n_critic": cfg.n_critic, "median_sec_per_step": round(med, 4),
                        "images_per_s": round(64 / med, 1), "steps_timed": len(ts)})
        print(f"{name}: {med:.3f} s/step, {64 / med:.0f} images/s (batch 64, n_critic {cfg.n_critic})")
    out = {"benchmark": "train_speed", "results": results,
           "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "torch_threads": torch.get_num_threads(),
                       "load_average_at_end": os.getloadavg()},
           "versions": {"torch": torch.__version__, "python": platform.python_version()}}
    path = Path(__file__).parent / "results" / "train_speed.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
