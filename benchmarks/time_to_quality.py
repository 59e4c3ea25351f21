"""Time to quality: per-class FID and recall on a disjoint test set against CPU minutes.

The quality benchmark's split (MNIST t10k: 8 majority digits with 500 training images, the
minority digits 3 and 8 with 25, 300 disjoint test images per class; the demo's nets, g/d
width 16) and its measurement (the toolkit's class_metrics in the domain judge's feature
space, 300 generated images per class). Each variant is trained once with a checkpoint every
``--every`` steps; every checkpoint's EMA generator is then measured on the test set, and its
CPU minutes are step x the run's median seconds per step (evaluation not counted).

The issue's target: majority FID <= 1.5 x the real floor (the test set's halves against each
other) and minority recall >= 0.6 within 10 CPU-minutes.

    .venv/bin/python benchmarks/time_to_quality.py [--variants old-default,n-critic-1] [--quick]

JSON: ``benchmarks/results/time_to_quality.json``; the curve: ``.../time_to_quality.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when imported by the tests
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from quality import (
    NET,
    git_state,
    group_means,
    load_average,
    quality_split,
    real_floor,  # noqa: E402
    test_set_metrics,
)
from utility import DEFAULT_MNIST, load_mnist, write_folder  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OLD_DEFAULT = {"diffaugment": "color,translation,cutout", "n_critic": 2}  # the defaults before issue 13
VARIANTS: dict[str, dict] = {
    "old-default": OLD_DEFAULT,
    "no-diffaugment": {"diffaugment": "none", "n_critic": 2},
    "n-critic-1": {"diffaugment": "none", "n_critic": 1},
    "lecam": {"diffaugment": "none", "n_critic": 1, "lecam": 0.3},
    "topk": {"diffaugment": "none", "n_critic": 1, "topk": 0.5},
    "ada": {"diffaugment": "color,translation,cutout", "n_critic": 1, "ada_target": 0.6},
    "default": {},  # whatever TrainConfig defaults to now
}
# Seconds a step costs per D step and the G step, on a quiet 2-core machine with the demo nets
# at batch 64 (0.24 s a step at n_critic 2, 2026-11-30): sets the steps a variant's budget buys.
SEC_PER_UPDATE = 0.08
TARGET = {"majority_fid_over_floor": 1.5, "minority_recall": 0.6, "cpu_minutes": 10.0}


def curve_point(step: int, sec_per_step: float, groups: dict, floor: dict) -> dict:
    """One measured checkpoint: its CPU minutes and the numbers the target is about."""
    maj, mino = groups["majority"], groups["minority"]
    ratio = maj["fid"] / floor["groups"]["majority"]["fid"]
    return {
        "step": step,
        "cpu_minutes": step * sec_per_step / 60,
        "majority_fid": maj["fid"],
        "majority_fid_over_floor": ratio,
        "majority_recall": maj["recall"],
        "minority_fid": mino["fid"],
        "minority_recall": mino["recall"],
        "minority_class_consistency": mino["class_consistency"],
        "meets_target": bool(
            ratio <= TARGET["majority_fid_over_floor"] and mino["recall"] >= TARGET["minority_recall"]
        ),
    }


def first_hit(points: list[dict]) -> float | None:
    """CPU minutes of the first checkpoint that meets the target (None: never)."""
    return next((p["cpu_minutes"] for p in points if p["meets_target"]), None)


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_fid, ax_rec) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    floor = result["real_floor"]["groups"]["majority"]["fid"]
    for name, v in result["variants"].items():
        xs = [p["cpu_minutes"] for p in v["curve"]]
        ax_fid.plot(xs, [p["majority_fid"] for p in v["curve"]], marker="o", label=name)
        ax_rec.plot(xs, [p["minority_recall"] for p in v["curve"]], marker="o", label=name)
    ax_fid.axhline(TARGET["majority_fid_over_floor"] * floor, color="k", ls="--", lw=1, label="1.5 x real floor")
    ax_fid.axhline(floor, color="gray", ls=":", lw=1, label="real floor")
    ax_rec.axhline(TARGET["minority_recall"], color="k", ls="--", lw=1, label="target")
    for ax, title in ((ax_fid, "majority FID (lower is better)"), (ax_rec, "minority recall (higher is better)")):
        ax.axvline(TARGET["cpu_minutes"], color="red", ls=":", lw=1)
        ax.set_xlabel("CPU minutes (2-core machine)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    ax_fid.set_yscale("log")
    ax_rec.set_ylim(0, 1)
    ax_rec.legend(fontsize=8, loc="lower right")
    fig.suptitle("Time to quality: MNIST, minority digits 3 and 8 with 25 images, demo nets")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def run_variant(
    name: str,
    train_dir: Path,
    data,
    models_dir: Path,
    test: dict,
    steps: int,
    every: int,
    seed: int,
    test_samples: int,
    judge_steps: int | None,
    floor_box: dict,
    log,
) -> dict:
    from augment_gan.contracts.run_dir import RunDir
    from augment_gan.evaluation.evaluate import EvalConfig, RunEvaluator, generate_per_class, load_ema_generator
    from augment_gan.evaluation.extractors import extract_features
    from augment_gan.pipeline import train as train_stage
    from augment_gan.pipeline.options import TrainEval
    from augment_gan.training.checkpoint import list_checkpoints

    t0 = time.perf_counter()
    trained = train_stage(
        train_dir,
        f"ttq-{name}",
        models_dir=models_dir,
        net=NET,
        train={"steps": steps, "checkpoint_every": every, "seed": seed, **VARIANTS[name]},
        evaluation=TrainEval(every=0),
        progress=False,
    )
    run_dir = trained.run_dir
    train_s = time.perf_counter() - t0
    step_times = [r["sec_per_step"] for r in RunDir(run_dir).read_metrics() if "sec_per_step" in r]
    sec_per_step = statistics.median(step_times)
    config = RunDir(run_dir).read_config()["train"]
    ecfg = EvalConfig(
        samples_per_class=test_samples, seed=seed, **({"judge_steps": judge_steps} if judge_steps is not None else {})
    )
    evaluator = RunEvaluator(run_dir, ecfg, data=data)  # the judge is cached across variants
    judge, scale = evaluator.judge, evaluator.feature_scale
    classes = data.classes
    test_all = extract_features(judge, test["images"]) * scale
    test_features = {c: test_all[test["labels"] == i] for i, c in enumerate(classes)}
    train_features = {
        c: evaluator.real_features[(evaluator.labels == i) & evaluator.is_train] for i, c in enumerate(classes)
    }
    if "floor" not in floor_box:
        floor_box["floor"] = real_floor(test_features, train_features, ecfg)
    points = []
    for step, ckpt in list_checkpoints(run_dir):
        if step == 0:
            continue
        generator, g_cfg, _ = load_ema_generator(ckpt)
        fakes = generate_per_class(generator, g_cfg, test_samples, seed)
        measured = test_set_metrics(
            extract_features(judge, fakes) * scale,
            judge.predict(fakes),
            test_samples,
            test_features,
            train_features,
            classes,
            ecfg,
        )
        point = curve_point(step, sec_per_step, group_means(measured["classes"]), floor_box["floor"])
        points.append(point)
        log(
            f"  {name} step {step} ({point['cpu_minutes']:.1f} CPU-min): majority FID {point['majority_fid']:.1f} "
            f"({point['majority_fid_over_floor']:.2f}x floor), minority recall {point['minority_recall']:.2f}"
            f"{'  <- meets the target' if point['meets_target'] else ''}"
        )
    return {
        "config": VARIANTS[name],
        "train_config": config,
        "steps": steps,
        "sec_per_step_median": sec_per_step,
        "train_seconds": round(train_s, 1),
        "measure_seconds": round(time.perf_counter() - t0 - train_s, 1),
        "curve": points,
        "first_cpu_minutes_meeting_target": first_hit(points),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    p.add_argument("--variants", default="old-default,no-diffaugment,n-critic-1,lecam,topk")
    p.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="CPU budget per variant; steps = minutes / the variant's seconds per step, "
        f"estimated as {SEC_PER_UPDATE} s x (n_critic + 1)",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="train every variant this many steps instead of a CPU budget (a GPU run: gpu_check.py)",
    )
    p.add_argument("--every", type=int, default=200, help="measure every N steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="smoke run: 20 steps, 100/10 images, 40 test images")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args()
    q = a.quick
    n_major, n_minor, n_test = (100, 10, 40) if q else (500, 25, 300)
    judge_steps = 50 if q else None
    variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    out = a.out or REPO / "benchmarks" / "results" / ("time_to_quality-quick.json" if q else "time_to_quality.json")
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f}s] {msg}", flush=True)

    import torch

    from augment_gan.data import load_image_folder
    from augment_gan.training import TrainConfig

    images, labels = load_mnist(a.mnist)
    split = quality_split(labels, n_major, n_minor, n_test, 0)
    result: dict = {
        "benchmark": "time_to_quality",
        "command": " ".join(["python", *sys.argv]),
        "quick": q,
        "split": {
            "source": "MNIST t10k",
            "seed": 0,
            "train_per_class": {str(d): len(split["train"][d]) for d in range(10)},
            "test_per_class": n_test,
        },
        "net": NET,
        "target": TARGET,
        "budget_minutes": a.minutes,
        "every": a.every,
        "machine": {
            "nproc": os.cpu_count(),
            "cpu_model": cpu_model(),
            "torch_threads": torch.get_num_threads(),
            "load_average_at_start": load_average(),
        },
        "versions": {"torch": torch.__version__},
        "code": git_state(),
        "variants": {},
    }
    floor_box: dict = {}
    with tempfile.TemporaryDirectory(prefix="ttq-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("AUGMENT_GAN_CACHE_DIR", str(work / "cache"))
        write_folder(work / "train", images, split["train"])
        write_folder(work / "test", images, split["test"])
        train_data = load_image_folder(work / "train", progress=False)
        test_data = load_image_folder(
            work / "test", resolution=train_data.resolution, channels=train_data.channels, progress=False
        )
        test = {"images": test_data.images, "labels": test_data.labels.numpy()}
        for v in variants:
            n_critic = TrainConfig(**{k: val for k, val in VARIANTS[v].items()}).n_critic
            per_step = SEC_PER_UPDATE * (n_critic + 1)
            steps = 20 if q else a.steps or max(1, int(round(a.minutes * 60 / per_step / a.every))) * a.every
            every = 10 if q else a.every
            log(f"variant {v} {VARIANTS[v] or '(the defaults)'}: {steps} steps")
            result["variants"][v] = run_variant(
                v,
                work / "train",
                train_data,
                work / "models",
                test,
                steps,
                every,
                a.seed,
                n_test,
                judge_steps,
                floor_box,
                log,
            )
            result["real_floor"] = floor_box["floor"]
            result["machine"]["load_average_at_end"] = load_average()
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    plot(result, out.with_suffix(".png"))
    print(f"\n{'variant':16s} {'s/step':>7s} {'first CPU-min meeting the target':>34s}")
    for v, r in result["variants"].items():
        hit = r["first_cpu_minutes_meeting_target"]
        print(f"{v:16s} {r['sec_per_step_median']:7.3f} {f'{hit:.1f}' if hit is not None else 'never':>34s}")
    print(f"wrote {out} and {out.with_suffix('.png')} ({time.perf_counter() - start:.0f}s)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
