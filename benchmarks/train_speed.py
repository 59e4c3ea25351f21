"""Training speed of our Trainer on this machine: seconds per step and images/s at batch 64,
and its overhead against a minimal straight-line PyTorch loop doing the same work.

Real images (the embedded digits folder at 32x32) through the real ``Trainer.train_step``
(n_critic D steps + 1 G step + EMA update, DiffAugment on), for the CLI default nets and
the demo's smaller nets. Configs are interleaved step by step so background load hits both
alike; the median over steps is reported. The overhead ratio times ``Trainer.train_step``
against ``straight_line_step`` below (same nets, batch, hinge loss, DiffAugment, n_critic,
EMA update) on the demo nets, interleaved. JSON: ``benchmarks/results/train_speed.json``.

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
from augment_gan.nets import Discriminator, Generator, NetConfig
from augment_gan.training import TrainConfig, Trainer
from augment_gan.training.diffaugment import diff_augment, parse_policy

from machine import cpu_model  # benchmarks/machine.py (scripts run from this folder)

CONFIGS = {
    "cli default (g_width 32, d_width 32)": dict(g_width=32, d_width=32),
    "demo (g_width 16, d_width 16)": dict(g_width=16, d_width=16),
}



def straight_line_step(G, D, opt_g, opt_d, ema, images, labels, weights, cfg, policy) -> None:
    """The textbook loop, no machinery: what our Trainer's step must not be much slower than."""
    for _ in range(cfg.n_critic):
        idx = torch.multinomial(weights, cfg.batch_size, replacement=True)
        real, y = images[idx].float() / 127.5 - 1.0, labels[idx]
        with torch.no_grad():
            fake = G(torch.randn(len(y), G.cfg.latent_dim), y)
        loss_d = torch.relu(1 - D(diff_augment(real, policy), y)).mean() + torch.relu(1 + D(diff_augment(fake, policy), y)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
    y = labels[torch.multinomial(weights, cfg.batch_size, replacement=True)]
    loss_g = -D(diff_augment(G(torch.randn(len(y), G.cfg.latent_dim), y), policy), y).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    with torch.no_grad():
        for e, p in zip(ema.parameters(), G.parameters()):
            e.lerp_(p, 1 - cfg.ema_decay)


def overhead(data, cfg: TrainConfig, tmp: Path, steps: int) -> dict:
    """Median step time of Trainer.train_step vs straight_line_step, demo nets, interleaved."""
    import copy

    net = NetConfig(num_classes=len(data.classes), channels=data.channels, **CONFIGS["demo (g_width 16, d_width 16)"])
    trainer = Trainer(tmp / "overhead", data.images, data.labels, net, cfg)
    G, D = Generator(net), Discriminator(net)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    ema = copy.deepcopy(G).requires_grad_(False)
    counts = torch.bincount(data.labels).double()
    weights = counts[data.labels] ** -cfg.class_balance
    policy = parse_policy(cfg.diffaugment)

    def plain() -> None:
        straight_line_step(G, D, opt_g, opt_d, ema, data.images, data.labels, weights, cfg, policy)

    ours_t, plain_t = [], []
    trainer.train_step(), plain()  # warm-up
    for _ in range(steps):
        for fn, out in ((trainer.train_step, ours_t), (plain, plain_t)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    ours, base = statistics.median(ours_t), statistics.median(plain_t)
    print(f"overhead: Trainer {ours:.3f} s/step vs straight-line loop {base:.3f} s/step -> ratio {ours / base:.3f}")
    return {"trainer_sec_per_step": round(ours, 4), "straight_line_sec_per_step": round(base, 4),
            "ratio_trainer_over_straight_line": round(ours / base, 3), "steps_timed": steps}


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
        overhead_result = overhead(data, cfg, Path(tmp), steps)
    results = []
    for name, ts in times.items():
        med = statistics.median(ts)
        results.append({"config": name, "batch_size": 64, "n_critic": cfg.n_critic, "median_sec_per_step": round(med, 4),
                        "images_per_s": round(64 / med, 1), "steps_timed": len(ts)})
        print(f"{name}: {med:.3f} s/step, {64 / med:.0f} images/s (batch 64, n_critic {cfg.n_critic})")
    out = {"benchmark": "train_speed", "results": results, "overhead": overhead_result,
           "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "torch_threads": torch.get_num_threads(),
                       "load_average_at_end": os.getloadavg()},
           "versions": {"torch": torch.__version__, "python": platform.python_version()}}
    path = Path(__file__).parent / "results" / "train_speed.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
