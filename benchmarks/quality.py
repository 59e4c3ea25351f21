"""Sample quality per class, with the defaults' ablations: DiffAugment, two D steps, no EMA.

An imbalanced split of the MNIST test set (t10k; read from ``--mnist``, never copied into
the repo), made by ``utility.make_split``: 8 majority digits with ``--n-major`` (500)
training images each, the minority digits 3 and 8 with ``--n-minor`` (25) each, and a
DISJOINT real held-out test set of ``--n-test`` (300) images per class that no variant and
no judge ever trains on. The train split is written as a PNG ImageFolder in a temp dir.

Seven variants are trained on that folder through the toolkit (``pipeline.run``), same
seed, same step budget (``--steps``, 700):

  default         ``TrainConfig()`` and ``NetConfig()`` defaults: hinge loss, n_critic 1,
                  batch 64, no DiffAugment, EMA decay 0.999 (with
                  the trainer's warm-up ``min(decay, (1 + step) / (10 + step))``),
                  class_balance 1 (classes drawn equally often), D's minibatch std per class
                  (batches drawn in groups of 4 images of one class)
  diffaugment     the same with DiffAugment ``color,translation,cutout`` (the default until issue 13)
  n-critic-2      the same with two D steps per G step (the default until issue 13)
  no-ema          the same with ``ema_decay=0.0``. What that means exactly: the warm-up then
                  gives ``decay = min(0, ...) = 0``, so after every step the "EMA" copy's
                  parameters are set to the live generator's (``lerp`` with weight 1, exact),
                  while its BatchNorm statistics are re-estimated by ``recalibrate_batchnorm``
                  before every checkpoint, exactly as for the default. So "no EMA" = the raw
                  generator's weights, with the same standing BN statistics (the live G's own
                  running averages from training are not used), evaluated, gated, promoted and
                  exported by the unchanged pipeline. The EMA does not touch the training RNG,
                  so this live G is the default run's live G, bit for bit (checked and
                  recorded in the JSON as ``no_ema_checks``): the ablation isolates the weight
                  averaging and nothing else.
  class-balance-0.5  the same with ``class_balance=0.5`` (a class drawn in proportion to
                  the square root of its size)
  old-default     the defaults before the per-class minibatch std: ``class_balance=0.5``,
                  D's minibatch std over the whole batch (``minibatch_std="batch"``),
                  DiffAugment and n_critic 2
  mode-seeking    the defaults plus MSGAN's mode-seeking term at weight 0.03
                  (``mode_seeking=0.03``, off by default)

Nets: the demo's (``g_width 16, d_width 16``, as in ``augment-gan demo`` and
``utility.py``), not the CLI's 32/32, so that one training fits a few minutes on
a 2-core CPU (~0.16 s a step at batch 64 with one D step, ~0.24 s with two). Each run is evaluated by the toolkit at half and
at the full budget (``EvalDuringTraining``, ``GateThresholds()``), the best step is picked by
the toolkit's rule and promoted (``promote_checkpoint``, ONNX export included). When no class
passes, nothing is promoted; the best-step checkpoint is still measured and marked so.

The promoted checkpoint's generator (the EMA weights the ONNX file was exported from) is then
measured per class against the disjoint test set, in domain features (the toolkit's judge,
trained on the run's training split, cached, the same judge for all variants; features
rescaled by the evaluator's ``feature_scale``), with the toolkit's ``class_metrics`` (FID,
KID, precision/recall k=3, density/coverage k=5, copy rate: nearer to a training image than
the 1st percentile of the test images' nearest-training distances) and class consistency
(share of samples the judge assigns to their class). Reported per class, as means over the
majority and over the minority classes, with the default gate applied to these test-set
metrics and, separately, the toolkit's own gate verdict at promotion (which compares with
the run's 10 % hold-out, or with all real images of a small class). A "real floor" (half of
the test images against the other half) shows what real data scores at that sample size.

Per-class sample grids (10 samples per class from the evaluated generator, the same noise
for every variant, beside 5 real test images) go to ``benchmarks/results/quality/<variant>.png``.

    .venv/bin/python benchmarks/quality.py [--quick] [--steps 700] [--n-major 500] [--n-minor 25]

JSON: ``benchmarks/results/quality.json`` (``quality-quick.json`` with ``--quick``, whose grids
go to ``benchmarks/results/quality/quick/``; with ``--out``, grids go to ``quality/`` beside it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when imported by the tests
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from utility import DEFAULT_MNIST, MINORITY, load_mnist, log_gates, make_split, write_folder  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NET = dict(g_width=16, d_width=16)  # the demo's nets (augment_gan.demo.DEMO_NET)
FULL_DIFFAUGMENT = "color,translation,cutout"
VARIANTS: dict[str, dict] = {
    "default": {},
    "diffaugment": {"diffaugment": FULL_DIFFAUGMENT},
    "n-critic-2": {"n_critic": 2},
    "no-ema": {"ema_decay": 0.0},
    "class-balance-0.5": {"class_balance": 0.5},
    "old-default": {"minibatch_std": "batch", "class_balance": 0.5, "diffaugment": FULL_DIFFAUGMENT, "n_critic": 2},
    "mode-seeking": {"mode_seeking": 0.03},
}
NET_OPTIONS = ("minibatch_std",)  # variant keys that are NetConfig fields; the rest are TrainConfig's
METRICS = ("fid", "kid", "precision", "recall", "density", "coverage", "class_consistency", "copy_rate")
GRID_SAMPLES, GRID_REAL = 10, 5


# --- pure helpers (tested in tests/benchmarks/test_quality_quick.py) ----------------------
def quality_split(labels: np.ndarray, n_major: int, n_minor: int, n_test: int, seed: int) -> dict:
    """Disjoint, seeded train / test indices per class: ``utility.make_split`` with no val part."""
    split = make_split(labels, n_major, n_minor, 0, n_test, seed)
    return {"train": split["train"], "test": split["test"]}


def variant_config(name: str, steps: int, seed: int):
    """The TrainConfig of a variant: the library defaults, the budget, and the ablation."""
    from augment_gan.training import TrainConfig

    train = {k: v for k, v in VARIANTS[name].items() if k not in NET_OPTIONS}
    return TrainConfig(steps=steps, checkpoint_every=max(steps // 2, 1), seed=seed, **train)


def variant_net(name: str) -> dict:
    """The NetConfig options of a variant: the demo's nets and the ablation."""
    return {**NET, **{k: v for k, v in VARIANTS[name].items() if k in NET_OPTIONS}}


def group_means(
    per_class: dict[str, dict], minority: tuple[int, ...] = MINORITY, metrics: tuple[str, ...] = METRICS
) -> dict[str, dict]:
    """Mean of each metric over the majority, the minority and all classes (a class whose
    value is None, not computable, is left out of that metric's mean; None if none is left)."""
    minority_names = {str(d) for d in minority}
    groups = {
        "majority": [c for c in per_class if c not in minority_names],
        "minority": [c for c in per_class if c in minority_names],
        "all": list(per_class),
    }
    out: dict[str, dict] = {}
    for group, names in groups.items():
        row: dict = {"classes": names}
        for m in metrics:
            values = [per_class[c][m] for c in names if per_class[c].get(m) is not None]
            row[m] = statistics.fmean(values) if values else None
        out[group] = row
    return out


def gate_counts(passed: list[str], classes: list[str], minority: tuple[int, ...] = MINORITY) -> dict[str, str]:
    """'passed/total' for the majority and the minority classes."""
    minority_names = {str(d) for d in minority}
    major = [c for c in classes if c not in minority_names]
    minor = [c for c in classes if c in minority_names]
    return {
        "majority": f"{sum(c in passed for c in major)}/{len(major)}",
        "minority": f"{sum(c in passed for c in minor)}/{len(minor)}",
    }


def compose_grid(fakes: np.ndarray, reals: np.ndarray, pad: int = 2, gap: int = 10) -> np.ndarray:
    """uint8 (classes, n_fake, H, W) and (classes, n_real, H, W) -> one gray image: a row per
    class, the generated samples, a gap, then the real images."""
    k, n_f, h, w = fakes.shape
    n_r = reals.shape[1]
    width = pad + n_f * (w + pad) + gap + n_r * (w + pad)
    grid = np.full((pad + k * (h + pad), width), 32, dtype=np.uint8)
    grid[:, pad + n_f * (w + pad) - pad // 2 : pad + n_f * (w + pad) + gap - pad] = 96  # separator
    for c in range(k):
        top = pad + c * (h + pad)
        for i in range(n_f):
            left = pad + i * (w + pad)
            grid[top : top + h, left : left + w] = fakes[c, i]
        for i in range(n_r):
            left = pad + n_f * (w + pad) + gap + i * (w + pad)
            grid[top : top + h, left : left + w] = reals[c, i]
    return grid


# --- the runs -----------------------------------------------------------------------------
def save_grid(
    path: Path,
    fakes: np.ndarray,
    reals: np.ndarray,
    classes: list[str],
    title: str,
    max_bytes: int = 100_000,
    real_label: str = "real (held-out)",
) -> dict:
    """The grid, upscaled x2 unless that makes the PNG larger than ``max_bytes``; then x1, and
    then x1 with 32 gray levels (noisy samples of a --quick run do not compress)."""
    for scale, levels in ((2, 256), (1, 256), (1, 32)):
        png = grid_png(fakes, reals, classes, title, scale, levels, real_label)
        if len(png) <= max_bytes:
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return {"bytes": len(png), "scale": scale, "gray_levels": levels}


def grid_png(
    fakes: np.ndarray,
    reals: np.ndarray,
    classes: list[str],
    title: str,
    scale: int,
    levels: int = 256,
    real_label: str = "real (held-out)",
) -> bytes:
    """The grid with class labels on the left (minority marked *) and a title, as PNG bytes."""
    from PIL import Image, ImageDraw, ImageFont

    if levels < 256:
        step = 256 // levels
        fakes, reals = (fakes // step) * step, (reals // step) * step

    body = Image.fromarray(compose_grid(fakes, reals), mode="L")
    body = body.resize((body.width * scale, body.height * scale), Image.NEAREST)
    left, top = 28, 18
    canvas = Image.new("L", (body.width + left, body.height + top), 0)
    canvas.paste(body, (left, top))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    draw.text((left, 3), title, fill=220, font=font)
    real_x = left + scale * (2 + fakes.shape[1] * (fakes.shape[3] + 2) + 10)
    draw.text((real_x, 3), real_label, fill=220, font=font)
    row_h = scale * (fakes.shape[2] + 2)
    for c, name in enumerate(classes):
        star = "*" if int(name) in MINORITY else ""
        draw.text((4, top + c * row_h + row_h // 2 - 6), name + star, fill=255 if star else 200, font=font)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def test_set_metrics(
    fake_features: np.ndarray,
    predicted: np.ndarray,
    n: int,
    test_features: dict,
    train_features: dict,
    classes: list[str],
    cfg,
) -> dict:
    """Per-class records against the disjoint test set (toolkit's class_metrics), and overall."""
    from augment_gan.evaluation.evaluate import class_metrics
    from augment_gan.evaluation.metrics import fid, kid, manifold_metrics

    per_class = {}
    for c, name in enumerate(classes):
        fake_c = fake_features[c * n : (c + 1) * n]
        record = class_metrics(
            reference=test_features[name], train=train_features[name], holdout=test_features[name], fake=fake_c, cfg=cfg
        )
        record["reference"] = "test (disjoint)"
        record["class_consistency"] = float((predicted[c * n : (c + 1) * n] == c).mean())
        per_class[name] = record
    real_all = np.concatenate([test_features[c] for c in classes])
    kid_mean, kid_std = kid(
        real_all, fake_features, num_subsets=cfg.kid_subsets, subset_size=cfg.kid_subset_size, seed=cfg.seed
    )
    m = min(len(real_all), len(fake_features))
    overall = {
        "fid": fid(real_all, fake_features),
        "kid": kid_mean,
        "kid_std": kid_std,
        **manifold_metrics(real_all[:m], fake_features[:m], pr_k=cfg.pr_k, dc_k=cfg.dc_k),
        "n_real": int(len(real_all)),
        "n_fake": int(len(fake_features)),
    }
    return {"overall": overall, "classes": per_class}


def run_variant(
    name: str,
    train_dir: Path,
    models_dir: Path,
    test,
    steps: int,
    seed: int,
    eval_samples: int,
    test_samples: int,
    judge_steps: int | None,
    log,
) -> dict:
    """Train, evaluate during training, promote, then measure on the test set."""
    import torch

    from augment_gan.contracts.run_dir import RunDir
    from augment_gan.evaluation.domain import per_class_accuracy
    from augment_gan.evaluation.evaluate import EvalConfig, RunEvaluator, generate_per_class, load_ema_generator
    from augment_gan.evaluation.extractors import extract_features
    from augment_gan.evaluation.gate import GateThresholds, apply_gate
    from augment_gan.pipeline import run as run_pipeline
    from augment_gan.training.checkpoint import resolve_checkpoint

    # the toolkit's own pipeline: train with evaluation at every checkpoint but step 0, gate, promote
    cfg = variant_config(name, steps, seed)
    judge_steps = judge_steps if judge_steps is not None else EvalConfig.judge_steps
    eval_cfg = EvalConfig(samples_per_class=eval_samples, seed=seed, judge_steps=judge_steps)
    thresholds = GateThresholds()
    result = run_pipeline(
        train_dir,
        f"mnist-{name}",
        models_dir=models_dir,
        net=variant_net(name),
        train=cfg,
        evaluation=eval_cfg,
        thresholds=thresholds,
        eval_every=cfg.checkpoint_every,
        utility=False,
    )  # sample quality only: the utility check is utility.py's business
    seconds = dict(result.seconds)
    run_dir, data, reports, step = result.run_dir, result.data, result.reports, result.best_step
    promoted = str(result.model_dir.relative_to(models_dir)) if result.model_dir else None
    step_times = [r["sec_per_step"] for r in RunDir(run_dir).read_metrics() if "sec_per_step" in r]
    toolkit_gate = apply_gate(reports[step], thresholds)
    log_gates(name, reports, log)
    evaluator = RunEvaluator(run_dir, eval_cfg, data=data)  # the judge the run trained (cached)

    # the promoted (best-step) checkpoint's EMA generator, measured on the disjoint test set
    t0 = time.perf_counter()
    _, ckpt = resolve_checkpoint(run_dir, step)
    generator, g_cfg, _ = load_ema_generator(ckpt)
    fakes = generate_per_class(generator, g_cfg, test_samples, seed)
    judge, scale = evaluator.judge, evaluator.feature_scale
    fake_features = extract_features(judge, fakes) * scale
    predicted = judge.predict(fakes)
    classes = data.classes
    test_all = extract_features(judge, test["images"]) * scale
    test_features = {c: test_all[test["labels"] == i] for i, c in enumerate(classes)}
    in_train = evaluator.is_train
    train_features = {c: evaluator.real_features[(evaluator.labels == i) & in_train] for i, c in enumerate(classes)}
    ecfg = EvalConfig(samples_per_class=test_samples, seed=seed, judge_steps=judge_steps)
    measured = test_set_metrics(fake_features, predicted, test_samples, test_features, train_features, classes, ecfg)
    test_gate = apply_gate({"step": step, **measured}, thresholds)
    seconds["test_eval"] = time.perf_counter() - t0

    out = {
        "train_config": cfg.to_dict(),
        "run_dir_name": run_dir.name,
        "evaluated_steps": sorted(reports),
        "best_step": step,
        "promoted_model": promoted,
        "sec_per_step_median": statistics.median(step_times) if step_times else None,
        "test": {
            "n_fake_per_class": test_samples,
            "overall": measured["overall"],
            "per_class": {
                c: {
                    k: measured["classes"][c].get(k)
                    for k in (
                        "n_train",
                        "n_holdout",
                        "n_reference",
                        "n_fake",
                        "n_pr",
                        *METRICS,
                        "kid_std",
                        "copy_threshold",
                    )
                }
                for c in classes
            },
            "groups": group_means(measured["classes"]),
            "gate": {
                "passed_classes": test_gate["passed_classes"],
                "counts": gate_counts(test_gate["passed_classes"], classes),
                "overall": test_gate["overall"],
                "reasons": {c: r["reasons"] for c, r in test_gate["per_class"].items() if not r["passed"]},
            },
        },
        "toolkit_eval": {
            "note": "the toolkit's own evaluation at the best step (reference: the run's 10 % hold-out, or all "
            "real images of a class with < 50 held out), as used for promotion",
            "eval_samples_per_class": eval_samples,
            "overall_fid": reports[step]["overall"]["fid"],
            "per_class": {
                c: {k: reports[step]["classes"][c].get(k) for k in ("reference", "n_reference", *METRICS)}
                for c in classes
            },
            "gate": {
                "passed_classes": toolkit_gate["passed_classes"],
                "counts": gate_counts(toolkit_gate["passed_classes"], classes),
                "reasons": {c: r["reasons"] for c, r in toolkit_gate["per_class"].items() if not r["passed"]},
            },
        },
        "judge": {
            "steps": judge_steps,
            "feature_scale": scale,
            "test_accuracy": per_class_accuracy(judge, test["images"], torch.as_tensor(test["labels"]), len(classes)),
        },
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }
    # what the run keeps for the caller (not in the JSON)
    out["_grid_fakes"] = fakes.numpy().reshape(len(classes), test_samples, *fakes.shape[1:])[:, :GRID_SAMPLES, 0]
    out["_checkpoint"] = ckpt
    out["_final_checkpoint"] = resolve_checkpoint(run_dir, "latest")[1]
    out["_test_features"] = test_features
    out["_train_features"] = train_features
    out["_ecfg"] = ecfg
    return out


def no_ema_checks(no_ema: dict, default: dict | None) -> dict:
    """The no-ema checkpoint's 'EMA' weights equal its live G's; its live G equals the default's."""
    import torch

    from augment_gan.training.checkpoint import load_checkpoint

    state = load_checkpoint(no_ema["_checkpoint"])
    params = dict(state["G"])
    ema_vs_live = max(
        float((state["G_ema"][k].float() - v.float()).abs().max())
        for k, v in params.items()
        if "running" not in k and "num_batches" not in k
    )
    out = {"max_abs_diff_ema_vs_live_params": ema_vs_live}
    if default is not None:
        a = load_checkpoint(no_ema["_final_checkpoint"])["G"]
        b = load_checkpoint(default["_final_checkpoint"])["G"]
        out["final_live_G_identical_to_default_live_G"] = all(torch.equal(a[k], b[k]) for k in a)
    return out


def real_floor(test_features: dict, train_features: dict, cfg) -> dict:
    """Half of each class's test images measured against the other half, as a generator would be."""
    from augment_gan.evaluation.evaluate import class_metrics

    per_class = {}
    for name, feats in test_features.items():
        h = len(feats) // 2
        rec = class_metrics(
            reference=feats[:h], train=train_features[name], holdout=feats[:h], fake=feats[h : 2 * h], cfg=cfg
        )
        rec["class_consistency"] = None
        per_class[name] = {k: rec.get(k) for k in ("n_reference", "n_fake", *METRICS)}
    return {
        "note": "real vs real: test images split in halves per class (n each shown); class_consistency n/a",
        "per_class": per_class,
        "groups": group_means(per_class),
    }


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git_state() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "head": git("rev-parse", "HEAD"),
        "dirty_files": git("status", "--porcelain", "--", "augment_gan").splitlines(),
    }


# --- reporting ----------------------------------------------------------------------------
def fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:.1f}"


def print_table(result: dict) -> None:
    cols = ("FID", "KID", "P", "R", "dens", "cov", "cons", "copy")
    print(
        f"\nper-class means on the disjoint test set ({result['split']['test_per_class']}/class), "
        f"{result['budget']['steps']} steps, demo nets"
    )
    print(
        f"{'variant':15s} {'group':9s} "
        + " ".join(f"{c:>6s}" for c in cols)
        + f" {'gate(test)':>10s} {'gate(tk)':>9s} {'step':>5s} {'promoted':>9s}"
    )
    rows = [
        (v, r["test"]["groups"], r["test"]["gate"]["counts"], r["toolkit_eval"]["gate"]["counts"], r)
        for v, r in result["variants"].items()
    ]
    floor = result.get("real_floor")
    for variant, groups, tg, kg, r in rows:
        for g in ("majority", "minority"):
            vals = " ".join(f"{fmt(groups[g][m]):>6s}" for m in METRICS)
            print(
                f"{variant:15s} {g:9s} {vals} {tg[g]:>10s} {kg[g]:>9s} {r['best_step']:>5d} "
                f"{'yes' if r['promoted_model'] else 'no':>9s}"
            )
    if floor:
        for g in ("majority", "minority"):
            vals = " ".join(f"{fmt(floor['groups'][g][m]):>6s}" for m in METRICS)
            print(f"{'real floor':15s} {g:9s} {vals}   (real half vs real half, n={floor['n_each']})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 40 steps each, 100/10 training images, 60 test images and samples per class",
    )
    p.add_argument("--steps", type=int, default=None, help="GAN steps per variant (default 700; quick 40)")
    p.add_argument(
        "--n-major", type=int, default=None, help="training images per majority class (default 500; quick 100)"
    )
    p.add_argument(
        "--n-minor", type=int, default=None, help="training images per minority class (default 25; quick 10)"
    )
    p.add_argument(
        "--n-test", type=int, default=None, help="disjoint real test images per class (default 300; quick 60)"
    )
    p.add_argument(
        "--test-samples",
        type=int,
        default=None,
        help="generated samples per class for the test-set metrics (default: --n-test)",
    )
    p.add_argument(
        "--eval-samples",
        type=int,
        default=None,
        help="samples per class of the toolkit's evaluation during training (default 200; quick 50)",
    )
    p.add_argument(
        "--judge-steps",
        type=int,
        default=None,
        help="steps of the domain judge (default: the library's 400; quick 100)",
    )
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated subset of {','.join(VARIANTS)}")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--seed", type=int, default=0, help="GAN, judge and evaluation seed")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument(
        "--grids",
        type=Path,
        default=None,
        help="grid folder (default: quality/ beside the JSON, i.e. benchmarks/results/quality; "
        "quick: .../quality/quick)",
    )
    p.add_argument("--keep", type=Path, default=None, help="work in this dir and keep it (default: a temp dir)")
    a = p.parse_args()
    q = a.quick
    steps = a.steps if a.steps is not None else (40 if q else 700)
    n_major = a.n_major if a.n_major is not None else (100 if q else 500)
    n_minor = a.n_minor if a.n_minor is not None else (10 if q else 25)
    n_test = a.n_test if a.n_test is not None else (60 if q else 300)
    test_samples = a.test_samples if a.test_samples is not None else n_test
    eval_samples = a.eval_samples if a.eval_samples is not None else (50 if q else 200)
    judge_steps = a.judge_steps if a.judge_steps is not None else (100 if q else None)
    variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    out_path = a.out or REPO / "benchmarks" / "results" / ("quality-quick.json" if q else "quality.json")
    # beside the JSON: benchmarks/results/quality/ (quick: .../quality/quick/); a --out elsewhere keeps them there
    grid_dir = a.grids or out_path.parent / "quality" / ("quick" if q else "")
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f}s] {msg}", flush=True)

    import torch

    from augment_gan.evaluation.evaluate import EvalConfig
    from augment_gan.evaluation.gate import GateThresholds

    images, labels = load_mnist(a.mnist)
    split = quality_split(labels, n_major, n_minor, n_test, a.split_seed)
    tmp_ctx = tempfile.TemporaryDirectory(prefix="quality-bench-") if a.keep is None else None
    work = Path(tmp_ctx.name) if tmp_ctx else a.keep
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AUGMENT_GAN_CACHE_DIR", str(work / "cache"))  # judges and decoded images: not ~/.cache
    exe = Path(sys.executable)
    try:
        exe_shown = str(exe.relative_to(REPO)) if exe.is_relative_to(REPO) else exe.name
    except ValueError:
        exe_shown = exe.name
    result: dict = {
        "benchmark": "quality",
        "command": " ".join([exe_shown, *sys.argv]),
        "quick": q,
        "split": {
            "source": "MNIST t10k",
            "seed": a.split_seed,
            "minority_digits": list(MINORITY),
            "train_per_class": {str(d): len(split["train"][d]) for d in range(10)},
            "test_per_class": n_test,
            "note": "test images are disjoint from the training folder; no GAN or judge sees them",
        },
        "budget": {
            "steps": steps,
            "batch_size": 64,
            "net": NET,
            "seed": a.seed,
            "eval_samples_per_class_during_training": eval_samples,
            "test_samples_per_class": test_samples,
            "judge_steps": judge_steps if judge_steps is not None else EvalConfig.judge_steps,
        },
        "variants_config": {v: VARIANTS[v] for v in variants},
        "gate_thresholds": GateThresholds().as_dict(),
        "machine": {
            "nproc": os.cpu_count(),
            "cpu_model": cpu_model(),
            "torch_threads": torch.get_num_threads(),
            "load_average_at_start": load_average(),
            "note": "shared 2-core machine: compare sec_per_step_median and the load averages before reading "
            "wall times (idle: ~0.45 s a step)",
        },
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "code": git_state(),
        "timings_s": {},
        "variants": {},
    }

    def write() -> None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(result, indent=2, default=str) + "\n")

    try:
        from augment_gan.data import load_image_folder

        t0 = time.perf_counter()
        train_dir, test_dir = work / "train", work / "test"
        write_folder(train_dir, images, split["train"])
        write_folder(test_dir, images, split["test"])
        train_data = load_image_folder(train_dir, progress=False)
        test_data = load_image_folder(
            test_dir, resolution=train_data.resolution, channels=train_data.channels, progress=False
        )  # decoded exactly as the training images are
        if test_data.classes != train_data.classes:
            raise SystemExit(f"test classes {test_data.classes} != train classes {train_data.classes}")
        test = {"images": test_data.images, "labels": test_data.labels.numpy()}
        result["timings_s"]["write_split"] = round(time.perf_counter() - t0, 1)
        log(
            f"split written: train {result['split']['train_per_class']}, test {n_test}/class "
            f"(images {tuple(train_data.images.shape[1:])})"
        )
        reals = np.stack(
            [test_data.images[test_data.labels == i][:GRID_REAL, 0].numpy() for i in range(len(test_data.classes))]
        )

        kept: dict[str, dict] = {}
        for v in variants:
            log(f"variant {v}: training {steps} steps (demo nets) ...")
            t0 = time.perf_counter()
            r = run_variant(
                v, train_dir, work / "models", test, steps, a.seed, eval_samples, test_samples, judge_steps, log
            )
            r["seconds"]["total"] = round(time.perf_counter() - t0, 1)
            r["load_average_after"] = load_average()
            saved = save_grid(
                grid_dir / f"{v}.png",
                r.pop("_grid_fakes"),
                reals,
                train_data.classes,
                f"{v}, step {r['best_step']}{'' if r['promoted_model'] else ' (not promoted)'}",
            )
            r["grid"] = {
                "path": str((grid_dir / f"{v}.png").relative_to(REPO))
                if (grid_dir / f"{v}.png").is_relative_to(REPO)
                else str(grid_dir / f"{v}.png"),
                **saved,
                "layout": f"a row per class (minority marked *): {GRID_SAMPLES} samples (the same noise "
                f"for every variant), then {GRID_REAL} real test images",
            }
            kept[v] = {k: r.pop(k) for k in [k for k in r if k.startswith("_")]}
            result["variants"][v] = r
            g = r["test"]["groups"]
            log(
                f"variant {v}: best step {r['best_step']}, promoted {r['promoted_model']}, "
                f"{r['sec_per_step_median']:.3f} s/step; test gate {r['test']['gate']['counts']}; "
                f"minority FID {fmt(g['minority']['fid'])} cov {fmt(g['minority']['coverage'])} "
                f"cons {fmt(g['minority']['class_consistency'])} ({r['seconds']['total']:.0f}s)"
            )
            first = next(iter(kept))
            r["judge"]["same_features_as_first_variant"] = (
                bool(
                    all(
                        np.array_equal(kept[v]["_test_features"][c], kept[first]["_test_features"][c])
                        for c in train_data.classes
                    )
                )
                if v != first
                else True
            )
            if "real_floor" not in result:
                result["real_floor"] = real_floor(
                    kept[v]["_test_features"], kept[v]["_train_features"], kept[v]["_ecfg"]
                )
                result["real_floor"]["n_each"] = n_test // 2
            result["timings_s"][v] = r["seconds"]["total"]
            write()  # partial results survive a kill
        if "no-ema" in kept:
            result["no_ema_checks"] = no_ema_checks(kept["no-ema"], kept.get("default"))
            log(f"no-ema checks: {result['no_ema_checks']}")
        result["timings_s"]["total"] = round(time.perf_counter() - start, 1)
    finally:
        result["machine"]["load_average_at_end"] = load_average()
        write()
        if tmp_ctx is not None:
            tmp_ctx.cleanup()

    print_table(result)
    print(f"wrote {out_path} and grids in {grid_dir} (total {result['timings_s']['total']:.0f}s)")


if __name__ == "__main__":
    main()
