"""Generation speed: onnxruntime (CPU provider) vs PyTorch eager, uint8 images out.

Both sides do the same work: latents + labels (numpy) in, uint8 NCHW images (numpy) out,
with the [-1, 1] -> uint8 mapping included (inside the ONNX graph; ``to_uint8`` in eager,
under ``torch.inference_mode``). Both use the same thread count (``--threads``, default:
the usable cores, which is also both libraries' own default on most machines).

The generator is the default training config (10 classes, 32x32, 1 channel, latent 128,
g_width 32) with random weights, or a real one: ``--checkpoint CKPT`` (its EMA generator;
exported here) and optionally ``--model MODEL_DIR`` (use that dir's generator.onnx for the
onnxruntime side; its card's source checkpoint is used when ``--checkpoint`` is omitted).

Runs are interleaved (onnxruntime, eager, eager, onnxruntime, ...) so background load hits
both alike; the median of ``--repeats`` runs is reported, per batch size. Results go to
``benchmarks/results/generation_speed.json``.

    python -m benchmarks.generation_speed [--repeats 5] [--quick] [--model DIR] [--checkpoint CKPT]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from augment_gan.contracts.model_dir import read_card, verify_file
from augment_gan.export.onnx_export import check_parity, export_generator_onnx, export_metadata
from augment_gan.nets import Generator, NetConfig
from augment_gan.run import load_ema_generator
from augment_gan.run.samples import to_uint8
from augment_gan.training.ema import recalibrate_batchnorm

from . import common

PRESETS = {  # images per batch size and run: enough to time reliably; batch 1: calls per run
    "full": {"repeats": 5, "images_per_run": 512, "batch1_calls": 128},
    "quick": {"repeats": 3, "images_per_run": 128, "batch1_calls": 32},
}
DEFAULT_CONFIG = NetConfig(num_classes=10, resolution=32, channels=1, latent_dim=128, g_width=32, d_width=32)
OPT_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def random_generator(cfg: NetConfig) -> Generator:
    """Random weights, per-class embeddings and calibrated BatchNorm (what training leaves)."""
    torch.manual_seed(0)
    G = Generator(cfg)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("gain.weight"):
                p.normal_(1.0, 0.3)
            elif name.endswith("bias.weight"):
                p.normal_(0.0, 0.3)
    recalibrate_batchnorm(G, cfg.num_classes, cfg.latent_dim, batches=4, batch_size=64)
    return G.eval()


def load_models(args: argparse.Namespace) -> tuple[Generator, bytes, str]:
    """(torch generator, onnx bytes, description of the source)."""
    checkpoint = args.checkpoint
    if args.model is not None and checkpoint is None:
        source = read_card(args.model).get("source", {})
        checkpoint = Path(source.get("run_dir", "")) / "checkpoints" / str(source.get("checkpoint", ""))
        if not checkpoint.is_file():
            raise SystemExit(f"{args.model}'s card names no readable checkpoint ({checkpoint}); pass --checkpoint.")
    if checkpoint is None:
        G = random_generator(DEFAULT_CONFIG)
        described = "default config, random weights"
    else:
        G = load_ema_generator(Path(checkpoint))[0]
        described = f"checkpoint {checkpoint}"
    if args.model is not None:
        card = read_card(args.model)
        data = verify_file(args.model, card, "generator.onnx").read_bytes()
        described += f"; onnx from {args.model}"
    else:
        data = export_generator_onnx(
            G, G.cfg, export_metadata([str(i) for i in range(G.cfg.num_classes)], G.cfg, name="bench", version=0)
        )
    return G, data, described


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, help="timed runs per side (default 5; quick 3)")
    parser.add_argument("--threads", type=int, default=common.usable_cpus())
    parser.add_argument("--opt-level", choices=sorted(OPT_LEVELS), default="all", help="onnxruntime graph optimisation")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 256])
    parser.add_argument("--model", type=Path, help="a model dir: use its generator.onnx")
    parser.add_argument("--checkpoint", type=Path, help="a checkpoint: its EMA generator for the eager side")
    parser.add_argument("--out", type=Path, default=None, help="default results/generation_speed[-quick].json")
    args = common.parse_args(parser, PRESETS)
    budget = common.budget(args, PRESETS[args.preset])
    args.out = args.out or common.default_out("generation_speed", args.preset)
    repeats, images_per_run = budget["repeats"], budget["images_per_run"]

    torch.set_num_threads(args.threads)
    G, data, described = load_models(args)
    cfg = G.cfg
    parity = check_parity(data, G, cfg)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.graph_optimization_level = OPT_LEVELS[args.opt_level]
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    rows = []
    for batch in args.batches:
        calls = max(1, images_per_run // batch) if batch > 1 else budget["batch1_calls"]
        rng = np.random.default_rng(batch)
        z = rng.standard_normal((calls, batch, cfg.latent_dim), dtype=np.float32)
        y = rng.integers(0, cfg.num_classes, (calls, batch)).astype(np.int64)

        def run_ort(calls=calls, z=z, y=y) -> None:
            for i in range(calls):
                session.run(["images"], {"z": z[i], "label": y[i]})

        def run_eager(calls=calls, z=z, y=y) -> None:
            with torch.inference_mode():
                for i in range(calls):
                    to_uint8(G(torch.from_numpy(z[i]), torch.from_numpy(y[i]))).numpy()

        run_ort(), run_eager()  # warm-up: allocator, thread pools, first-call setup
        times: dict[str, list[float]] = {"ort": [], "eager": []}
        for r in range(repeats):
            order = ("ort", "eager") if r % 2 == 0 else ("eager", "ort")
            for side in order:
                times[side].append(timed(run_ort if side == "ort" else run_eager))
        n_images = calls * batch
        ort_ips = n_images / statistics.median(times["ort"])
        eager_ips = n_images / statistics.median(times["eager"])
        rows.append(
            {
                "batch": batch,
                "images_per_run": n_images,
                "ort_images_per_s": round(ort_ips, 1),
                "eager_images_per_s": round(eager_ips, 1),
                "ratio_ort_over_eager": round(ort_ips / eager_ips, 3),
                "ort_runs_s": [round(t, 4) for t in times["ort"]],
                "eager_runs_s": [round(t, 4) for t in times["eager"]],
            }
        )
        print(
            f"batch {batch:>4}: onnxruntime {ort_ips:9.1f} img/s   eager {eager_ips:9.1f} img/s   ratio {ort_ips / eager_ips:.2f}"
        )

    result = {
        "benchmark": "generation_speed",
        "command": common.command_line(),
        "preset": args.preset,
        "quick": args.quick,
        "model": described,
        "net_config": cfg.to_dict(),
        "parity_max_diff": parity,
        "threads": args.threads,
        "ort_graph_optimization": args.opt_level,
        "repeats": repeats,
        "results": rows,
        **common.provenance(),
    }
    common.save(args.out, result)


if __name__ == "__main__":
    main()
