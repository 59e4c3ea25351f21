"""Time to quality: per-class FID and recall on a disjoint test set against CPU minutes.

The quality benchmark's split (MNIST t10k: 8 majority digits with 500 training images, the
minority digits 3 and 8 with 25, 300 disjoint test images per class; the demo's nets, g/d
width 16) and its measurement (``testset.Measurer``: the library's ``measure`` in the run's
domain-judge features, 300 generated images per class). Each variant is trained once with a checkpoint every
``--every`` steps; every checkpoint's EMA generator is then measured on the test set, and its
CPU minutes are step x the run's median seconds per step (evaluation not counted).

The issue's target: majority FID <= 1.5 x the real floor (the test set's halves against each
other) and minority recall >= 0.6 within 10 CPU-minutes.

    python -m benchmarks.time_to_quality [--variants old-default,n-critic-1] [--minutes 10 | --steps N] [--quick]

JSON: ``benchmarks/results/time_to_quality.json``; the curve: ``.../time_to_quality.png``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from . import common
from .gan import NET
from .mnist import load_mnist, write_folder
from .testset import Measurer, TestSet, group_means, quality_split

OLD_DEFAULT = {"diffaugment": "color,translation,cutout", "diffaugment_below": 0, "n_critic": 2}  # before issue 13
VARIANTS: dict[str, dict] = {
    "old-default": OLD_DEFAULT,
    "no-diffaugment": {"diffaugment": "none", "n_critic": 2},
    "n-critic-1": {"diffaugment": "none", "n_critic": 1},
    "lecam": {"diffaugment": "none", "n_critic": 1, "lecam": 0.3},
    "topk": {"diffaugment": "none", "n_critic": 1, "topk": 0.5},
    "ada": {
        "diffaugment": "color,translation,cutout",
        "n_critic": 1,
        "ada_target": 0.6,
    },  # ADA replaces diffaugment_below
    "default": {},  # whatever TrainConfig defaults to now
}
PRESETS = {  # steps None: the CPU budget (--minutes) decides
    "full": {"n_major": 500, "n_minor": 25, "n_test": 300, "judge_steps": None, "steps": None, "every": 200},
    "quick": {"n_major": 100, "n_minor": 10, "n_test": 40, "judge_steps": 50, "steps": 20, "every": 10},
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
    tests: TestSet,
    steps: int,
    every: int,
    seed: int,
    judge_steps: int,
    floor_box: dict,
    log,
) -> dict:
    from augment_gan.pipeline import train
    from augment_gan.run import Run, RunSpec
    from augment_gan.run.checkpoint import list_checkpoints

    t0 = time.perf_counter()
    trained = train(
        train_dir,
        f"ttq-{name}",
        models_dir=models_dir,
        net=NET,
        train={"steps": steps, "checkpoint_every": every, "seed": seed, **VARIANTS[name]},
    )  # no evaluation during training: every checkpoint is measured on the test set below
    run = Run(trained.run_dir, RunSpec.read(trained.run_dir), data, progress=False)
    train_s = time.perf_counter() - t0
    step_times = [r["sec_per_step"] for r in run.dir.read_metrics() if "sec_per_step" in r]
    sec_per_step = statistics.median(step_times)
    measurer = Measurer.for_run(run.path, tests, judge_steps=judge_steps, seed=seed, data=data)  # judge: cached
    if "floor" not in floor_box:
        floor_box["floor"] = measurer.real_floor(seed)
    points = []
    for step, _ in list_checkpoints(run.path):
        if step == 0:
            continue
        generator, _, _ = run.ema_generator(step)
        measured = measurer.measure(generator, len(next(iter(tests.images.values()))), seed)
        point = curve_point(step, sec_per_step, group_means(measured), floor_box["floor"])
        points.append(point)
        log(
            f"  {name} step {step} ({point['cpu_minutes']:.1f} CPU-min): majority FID {point['majority_fid']:.1f} "
            f"({point['majority_fid_over_floor']:.2f}x floor), minority recall {point['minority_recall']:.2f}"
            f"{'  <- meets the target' if point['meets_target'] else ''}"
        )
    return {
        "config": VARIANTS[name],
        "train_config": run.spec.train.to_dict(),
        "steps": steps,
        "sec_per_step_median": sec_per_step,
        "train_seconds": round(train_s, 1),
        "measure_seconds": round(time.perf_counter() - t0 - train_s, 1),
        "curve": points,
        "first_cpu_minutes_meeting_target": first_hit(points),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist", type=Path, default=common.DEFAULT_MNIST)
    p.add_argument("--variants", default="old-default,no-diffaugment,n-critic-1,lecam,topk")
    p.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="CPU budget per variant; steps = minutes / the variant's seconds per step, "
        f"estimated as {SEC_PER_UPDATE} s x (n_critic + 1)",
    )
    p.add_argument(
        "--steps", type=int, help="train every variant this many steps instead of a CPU budget (a GPU run: gpu_check)"
    )
    p.add_argument("--every", type=int, help="measure every N steps (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None)
    a = common.parse_args(p, PRESETS)
    budget = common.budget(a, PRESETS[a.preset])
    variants = common.pick(a.variants, VARIANTS)
    out = a.out or common.default_out("time_to_quality", a.preset)
    clock = common.Clock()

    from augment_gan.data import load_image_folder
    from augment_gan.evaluation.config import EvalConfig
    from augment_gan.run import TrainConfig

    judge_steps = budget["judge_steps"] or EvalConfig.judge_steps
    images, labels = load_mnist(a.mnist)
    split = quality_split(labels, budget["n_major"], budget["n_minor"], budget["n_test"], 0)
    result: dict = {
        "benchmark": "time_to_quality",
        "command": common.command_line(),
        "preset": a.preset,
        "quick": a.quick,
        "split": {
            "source": "MNIST t10k",
            "seed": 0,
            "train_per_class": {str(d): len(split["train"][d]) for d in range(10)},
            "test_per_class": budget["n_test"],
        },
        "net": NET,
        "target": TARGET,
        "budget_minutes": a.minutes,
        "every": budget["every"],
        "judge_steps": judge_steps,
        **common.provenance(),
        "variants": {},
    }
    floor_box: dict = {}
    with common.work_dir(None, "ttq-") as work:
        write_folder(work / "train", images, split["train"])
        write_folder(work / "test", images, split["test"])
        train_data = load_image_folder(work / "train", progress=False)
        tests = TestSet.load(work / "test", train_data)  # decoded exactly as the training images are
        for v in variants:
            per_step = SEC_PER_UPDATE * (TrainConfig(**VARIANTS[v]).n_critic + 1)
            every = budget["every"]
            steps = budget["steps"] or max(1, int(round(a.minutes * 60 / per_step / every))) * every
            clock.log(f"variant {v} {VARIANTS[v] or '(the defaults)'}: {steps} steps")
            result["variants"][v] = run_variant(
                v,
                work / "train",
                train_data,
                work / "models",
                tests,
                steps,
                every,
                a.seed,
                judge_steps,
                floor_box,
                clock.log,
            )
            result["real_floor"] = floor_box["floor"]
            common.finish(result)
            common.write_json(out, result)
    plot(result, out.with_suffix(".png"))
    print(f"\n{'variant':16s} {'s/step':>7s} {'first CPU-min meeting the target':>34s}")
    for v, r in result["variants"].items():
        hit = r["first_cpu_minutes_meeting_target"]
        print(f"{v:16s} {r['sec_per_step_median']:7.3f} {f'{hit:.1f}' if hit is not None else 'never':>34s}")
    print(f"wrote {out} and {out.with_suffix('.png')} ({clock.elapsed():.0f}s)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
