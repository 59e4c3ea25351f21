"""Training speed of our Trainer on this machine: seconds per step and images/s at batch 64,
and its overhead against a minimal straight-line PyTorch loop doing the same work.

Real images (the embedded digits folder at 32x32) through the real ``Trainer.train_step``
(n_critic D steps + 1 G step + EMA update, DiffAugment on), for the CLI default nets and
the demo's smaller nets. Configs are interleaved step by step so background load hits both
alike; the median over steps is reported. The overhead ratio times ``Trainer.train_step``
against ``straight_line_step`` below (same nets, batch, hinge loss, DiffAugment, n_critic,
EMA update) on the demo nets, interleaved. It also runs a short ``augment-gan train
--eval-every`` on the digits and reports the share of its wall time spent evaluating.
JSON: ``benchmarks/results/train_speed.json``.

    python -m benchmarks.train_speed [--steps 30] [--quick]
    # on a GPU machine: both resolutions, with and without bf16 autocast
    python -m benchmarks.train_speed --device cuda --resolutions 32 64 --precisions fp32 bf16
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from augment_gan.data import load_image_folder
from augment_gan.data.digits import write_digits_folder
from augment_gan.nets import Discriminator, Generator, NetConfig
from augment_gan.run import TrainConfig
from augment_gan.run.train_config import parse_policy
from augment_gan.training import Trainer
from augment_gan.training.diffaugment import diff_augment

from . import common

PRESETS = {  # eval_share: the train --eval-every run whose evaluation share is measured
    "full": {"steps": 30, "eval_share_steps": 200, "eval_share_every": 50},
    "quick": {"steps": 5, "eval_share_steps": 20, "eval_share_every": 10},
}
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
        loss_d = (
            torch.relu(1 - D(diff_augment(real, policy), y)).mean()
            + torch.relu(1 + D(diff_augment(fake, policy), y)).mean()
        )
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
    return {
        "trainer_sec_per_step": round(ours, 4),
        "straight_line_sec_per_step": round(base, 4),
        "ratio_trainer_over_straight_line": round(ours / base, 3),
        "steps_timed": steps,
    }


def eval_share(folder: Path, tmp: Path, steps: int, every: int) -> dict:
    """Share of a real ``train --eval-every`` run's wall time spent evaluating (demo nets)."""
    models = tmp / "eval-share"
    cmd = [
        sys.executable,
        "-m",
        "augment_gan.cli",
        "train",
        str(folder),
        "--name",
        "d",
        "--models-dir",
        str(models),
        "--steps",
        str(steps),
        "--checkpoint-every",
        str(every),
        "--eval-every",
        str(every),
        "--g-width",
        "16",
        "--d-width",
        "16",
        "--eval-samples",
        "200",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    (run_dir,) = (models / "d" / "runs").iterdir()
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [r["seconds"] for r in records if r.get("event") == "eval"]
    share = sum(evals) / wall
    print(
        f"evaluation during training: {len(evals)} evaluations, {sum(evals):.0f} s of {wall:.0f} s wall "
        f"({share:.0%}; {steps} steps, eval every {every}, 200 samples/class; judge training not included)"
    )
    return {
        "command": " ".join(cmd[1:]),
        "steps": steps,
        "eval_every": every,
        "evaluations": len(evals),
        "eval_seconds": round(sum(evals), 1),
        "wall_seconds": round(wall, 1),
        "eval_share": round(share, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, help="timed steps per configuration (default 30; quick 5)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[32])
    parser.add_argument("--precisions", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    parser.add_argument("--out", type=Path, default=None, help="default results/train_speed[-quick].json")
    args = common.parse_args(parser, PRESETS)
    budget = common.budget(args, PRESETS[args.preset])
    args.out = args.out or common.default_out("train_speed", args.preset)
    steps = budget["steps"]
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "digits"
        write_digits_folder(folder)
        cfg = TrainConfig(batch_size=64)
        trainers = {}
        for resolution in args.resolutions:
            data = load_image_folder(folder, resolution=resolution, progress=False)
            for name, widths in CONFIGS.items():
                for precision in args.precisions:
                    net = NetConfig(
                        num_classes=len(data.classes), channels=data.channels, resolution=resolution, **widths
                    )
                    key = (name, resolution, precision)
                    trainers[key] = Trainer(
                        Path(tmp) / f"{name.split()[0]}-{resolution}-{precision}",
                        data.images,
                        data.labels,
                        net,
                        cfg,
                        device,
                        precision=precision,
                        channels_last=device.type == "cuda",
                    )
                    trainers[key].train_step()  # warm-up
        times: dict[tuple, list[float]] = {key: [] for key in trainers}
        for _ in range(steps):
            for key, trainer in trainers.items():
                if device.type == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                trainer.train_step()
                if device.type == "cuda":
                    torch.cuda.synchronize()
                times[key].append(time.perf_counter() - t0)
        overhead_result = share = None
        if device.type == "cpu":
            data = load_image_folder(folder, progress=False)
            overhead_result = overhead(data, cfg, Path(tmp), steps)
            share = eval_share(folder, Path(tmp), budget["eval_share_steps"], budget["eval_share_every"])
    results = []
    for (name, resolution, precision), ts in times.items():
        med = statistics.median(ts)
        results.append(
            {
                "config": name,
                "resolution": resolution,
                "precision": precision,
                "device": str(device),
                "batch_size": 64,
                "n_critic": cfg.n_critic,
                "median_sec_per_step": round(med, 4),
                "images_per_s": round(64 / med, 1),
                "steps_timed": len(ts),
            }
        )
        print(
            f"{name}, {resolution}x{resolution}, {precision} on {device}: {med:.3f} s/step, {64 / med:.0f} images/s "
            f"(batch 64, n_critic {cfg.n_critic})"
        )
    out = {
        "benchmark": "train_speed",
        "command": common.command_line(),
        "preset": args.preset,
        "results": results,
        "overhead": overhead_result,
        "eval_share": share,
        **common.provenance(),
    }
    common.save(args.out, out)


if __name__ == "__main__":
    main()
