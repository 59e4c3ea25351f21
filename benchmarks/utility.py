"""Downstream utility: does augment-gan help a classifier more than classic augmentation?

An imbalanced split of the MNIST test set (t10k; read from ``--mnist``, never copied into
the repo): 8 majority classes with ``--n-major`` (400) training images each and the two
minority digits 3 and 8 with ``--n-minor`` (15) each, plus a disjoint validation split and a
disjoint real test split per class. The train split is written as a PNG ImageFolder in a
temp dir; a class-conditional GAN is trained on it with the toolkit (demo nets: g_width 16,
d_width 16; the library's training defaults otherwise), evaluated, gated with ``GateThresholds()`` and promoted. If a
minority class fails the gate, that is recorded and the synthetic strategies are ALSO run
with a model promoted under lenient thresholds ("gate bypassed"), clearly labelled.

The same small CNN (2 conv + 1 fc, 28x28 gray) is then trained with the same budget (a fixed
number of Adam steps at batch 64) and several seeds, first on the classic recipes:

  a           real only, uniform sampling
  b           real, class-balanced sampler (random oversampling)
  c           b + RandomAffine(10 deg, translate 0.1, scale 0.9-1.1)        <- the bar
  c-elastic   c + elastic distortion (Simard et al. 2003: alpha 34, sigma 4)
  la          uniform sampling + affine, logit-adjusted loss (Menon et al. 2021, tau 1)
  la-elastic  la + elastic distortion

(c+), the strongest classic recipe, is the one of c, c-elastic, la, la-elastic with the best
VALIDATION macro-F1. Then augment-gan on top of (c) and of (c+):

  e           files from ``augment_folder(target="max")`` (small classes filled to the top), uniform + affine
  g           files from ``augment_folder(target="max", max_share=0.5)``, oversampled + affine
  f25@B ...   ``BalancedDataset`` on top of recipe B (its sampling, augmentation and loss):
              synthetic share 0.25 or 0.5 of each small class, each synthetic sample
              weighted 1 (f25, f50) or 0.5 (f25w, f50w) in the loss; every one with per-sample
              selection (the default), and f25ns the same as f25 with it off (``select=False``),
              so ``selection_effect`` is the paired difference f25 - f25ns on each base

Strategies marked * use the GAN promoted with the gate bypassed (only when the gate
rejected a minority class). Reported on the real test split: macro-F1, balanced accuracy,
minority recall (mean of the two minority classes), mean +- std over seeds; the best
augment-gan strategy (picked on the VALIDATION split's macro-F1, never on test); and, for
every augment-gan strategy against (c) and (c+), the mean paired difference over seeds with
its 95 % t interval (seed k of every strategy starts from the same classifier weights and
draws from the same sampler seed). A difference whose interval contains 0 is a tie.

    .venv/bin/python benchmarks/utility.py [--quick] [--seeds 5] [--gan-steps N] [--clf-steps 300] [--n-minor 15]

JSON: ``benchmarks/results/utility.json`` for 15-image minority classes, ``utility-minorN.json``
for ``--n-minor N`` (``utility-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when imported by the tests
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MNIST = REPO.parent / "shared" / "datasets" / "mnist-t10k"
MINORITY = (3, 8)
CLASSES = [str(d) for d in range(10)]
BASELINE = "c"  # the bar: class-balanced oversampling + random affine
# The classic recipes (no GAN). (c+), the strongest classic one, is picked among
# C_PLUS_CANDIDATES on the validation split's macro-F1; every augment-gan strategy is run on
# top of (c) and of (c+), and compared seed by seed with both.
CLASSIC: dict[str, dict] = {
    "a": dict(label="real only, uniform", sampling="uniform", aug="none", loss="ce"),
    "b": dict(label="real, oversampled (class-balanced)", sampling="balanced", aug="none", loss="ce"),
    "c": dict(label="real, oversampled + affine", sampling="balanced", aug="affine", loss="ce"),
    "c-elastic": dict(
        label="real, oversampled + affine + elastic", sampling="balanced", aug="affine+elastic", loss="ce"
    ),
    "la": dict(label="real, uniform + affine, logit-adjusted loss", sampling="uniform", aug="affine", loss="la"),
    "la-elastic": dict(
        label="real, uniform + affine + elastic, logit-adjusted loss",
        sampling="uniform",
        aug="affine+elastic",
        loss="la",
    ),
}
C_PLUS_CANDIDATES = ("c", "c-elastic", "la", "la-elastic")
# BalancedDataset on top of a classic recipe: (synthetic share per small class, loss weight of a synthetic sample)
# (share, synthetic loss weight, per-sample selection); f25ns is f25 with selection off
BALANCED_VARIANTS = {
    "f25": (0.25, 1.0, True),
    "f50": (0.5, 1.0, True),
    "f25w": (0.25, 0.5, True),
    "f50w": (0.5, 0.5, True),
    "f25ns": (0.25, 1.0, False),
}
QUICK = {"classic": ("a", "c", "c-elastic", "la"), "balanced": ("f25", "f25w")}  # --quick: a smoke run's subset
DEFAULT_STRATEGY = "f25"  # what BalancedDataset's defaults do (share 0.25, every sample weighted 1)


# --- data ---------------------------------------------------------------------------------
def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(folder / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise SystemExit(f"unexpected MNIST files in {folder}: images {images.shape}, labels {labels.shape}")
    return images, labels


def make_split(labels: np.ndarray, n_major: int, n_minor: int, n_val: int, n_test: int, seed: int) -> dict:
    """Disjoint train / val / test indices per class (seeded)."""
    rng = np.random.default_rng(seed)
    split = {"train": {}, "val": {}, "test": {}}
    for d in range(10):
        idx = rng.permutation(np.flatnonzero(labels == d))
        n_train = n_minor if d in MINORITY else n_major
        need = n_train + n_val + n_test
        if need > len(idx):
            raise SystemExit(f"digit {d} has {len(idx)} images, the split needs {need}")
        split["train"][d] = idx[:n_train].tolist()
        split["val"][d] = idx[n_train : n_train + n_val].tolist()
        split["test"][d] = idx[n_train + n_val : need].tolist()
    return split


def write_folder(root: Path, images: np.ndarray, split_part: dict, name: str = "t10k-{:05d}.png") -> None:
    """Gray images ``images[i]`` as ``root/<class>/<name.format(i)>``, for each class's indices."""
    from PIL import Image

    for d, indices in split_part.items():
        (root / str(d)).mkdir(parents=True, exist_ok=True)
        for i in indices:
            Image.fromarray(images[i], mode="L").save(root / str(d) / name.format(i))


def as_tensor(images: np.ndarray, split_part: dict):
    import torch

    idx = [i for d in sorted(split_part) for i in split_part[d]]
    x = torch.from_numpy(images[idx].astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.tensor([d for d in sorted(split_part) for _ in split_part[d]], dtype=torch.long)
    return (x - 0.5) / 0.5, y


# --- the GAN ------------------------------------------------------------------------------
LENIENT = dict(
    max_fid=1e12,
    max_kid=1e12,
    min_precision=0.0,
    min_recall=0.0,
    min_coverage=0.0,
    min_class_consistency=0.0,
    max_copy_rate=1.0,
    max_overall_fid=1e12,
    calibrated=False,
)


def log_gates(tag: str, reports: dict[int, dict], log) -> None:
    """One line per evaluated step: how many classes the toolkit's gate passed, and which."""
    for s in sorted(reports):
        passed = reports[s]["gate"]["passed_classes"]
        log(
            f"  {tag}: toolkit gate at step {s}: {len(passed)}/{len(reports[s]['classes'])} pass "
            f"({','.join(passed) or '-'})"
        )


QUICK_UTILITY_CHECK = dict(seeds=2, steps=20)  # --quick: promote's utility check, smoke-sized


def train_gan(
    train_dir: Path,
    models_dir: Path,
    steps: int,
    eval_samples: int,
    seed: int,
    log,
    judge_steps: int | None = None,
    diffaugment: str | None = None,
    quick: bool = False,
) -> dict:
    from augment_gan.contracts.run_dir import RunDir
    from augment_gan.evaluation.evaluate import EvalConfig
    from augment_gan.evaluation.gate import GateThresholds, apply_gate
    from augment_gan.evaluation.utility import UtilityConfig
    from augment_gan.pipeline import run as run_pipeline
    from augment_gan.promote import promote_checkpoint
    from augment_gan.training import TrainConfig

    judge_steps = judge_steps if judge_steps is not None else EvalConfig.judge_steps
    every = max(steps // 2, 1)
    cfg = TrainConfig(
        steps=steps,
        checkpoint_every=every,
        seed=seed,  # the library's defaults otherwise
        **({"diffaugment": diffaugment} if diffaugment is not None else {}),
    )
    out: dict = {
        "steps": steps,
        "n_critic": cfg.n_critic,
        "batch_size": cfg.batch_size,
        "eval_samples_per_class": eval_samples,
        "judge_steps": judge_steps,
        "seed": seed,
    }
    thresholds = GateThresholds()
    # the toolkit's own pipeline: train with evaluation at every checkpoint but step 0, gate, promote
    result = run_pipeline(
        train_dir,
        "mnist-imbalanced",
        models_dir=models_dir,
        net=dict(g_width=16, d_width=16),
        train=cfg,
        evaluation=EvalConfig(samples_per_class=eval_samples, seed=seed, judge_steps=judge_steps),
        thresholds=thresholds,
        eval_every=every,
        utility=UtilityConfig(**QUICK_UTILITY_CHECK) if quick else True,
    )
    run_dir, reports, step = result.run_dir, result.reports, result.best_step
    out["diffaugment"] = cfg.diffaugment
    out["net"], out["train_config"] = RunDir(run_dir).read_config()["net"], cfg.to_dict()
    out["seconds"] = dict(result.seconds)
    out["run_dir_name"] = run_dir.name
    out["evaluated_steps"] = sorted(reports)
    out["best_step"] = step
    rep = reports[step]
    out["per_class_metrics"] = {
        c: {
            k: rep["classes"][c].get(k)
            for k in (
                "n_reference",
                "reference",
                "fid",
                "kid",
                "precision",
                "recall",
                "coverage",
                "class_consistency",
                "copy_rate",
            )
        }
        for c in rep["classes"]
    }
    out["overall_fid"] = rep["overall"]["fid"]
    # the final decision: the gate's checks, then promote's utility check on the passed classes
    decision = result.decision if result.model_dir is not None else apply_gate(rep, thresholds)
    out["gate"] = {
        c: {
            "passed": r["passed"],
            "reasons": r["reasons"],
            "warnings": r.get("warnings", []),
            "utility": r.get("utility"),
        }
        for c, r in decision["per_class"].items()
    }
    out["utility_check"] = decision.get("utility")
    out["gate_passed_classes"] = decision["passed_classes"]
    out["selection"] = selection_summary(result.model_dir)
    log_gates("GAN", reports, log)
    model_dir = result.model_dir
    out["gated_model"] = str(model_dir.relative_to(models_dir)) if model_dir else None
    out["model_dir"] = model_dir
    t0 = time.perf_counter()
    minority_ok = all(str(d) in decision["passed_classes"] for d in MINORITY)
    out["minority_passed_gate"] = {str(d): str(d) in decision["passed_classes"] for d in MINORITY}
    out["lenient_model_dir"] = None
    if not minority_ok:
        final = max(reports)
        lenient = GateThresholds(**LENIENT)
        lenient_dir, ldec = promote_checkpoint(
            run_dir, final, lenient, models_dir=models_dir / "gate-bypassed", utility=False
        )  # bypassed: every check, the utility check too
        out["lenient_model_dir"] = lenient_dir
        out["lenient"] = {
            "step": final,
            "thresholds": LENIENT,
            "passed_classes": ldec["passed_classes"],
            "selection": selection_summary(lenient_dir),
        }
    out["seconds"]["lenient_promote"] = time.perf_counter() - t0
    return out


def selection_summary(model_dir: Path | None) -> dict | None:
    """Per-sample selection's acceptance per class, from a model dir's card."""
    if model_dir is None:
        return None
    card = json.loads((Path(model_dir) / "card.json").read_text())
    return {
        c: {k: round(v, 3) if isinstance(v, float) else v for k, v in e.items()}
        for c, e in card.get("selection", {}).get("per_class", {}).items()
    }


def save_gan_grid(model_dir: Path, images: np.ndarray, train_split: dict, path: Path, title: str) -> dict:
    """10 samples per class from a promoted model (seed 0) beside 5 of the class's TRAINING
    images (upscaled to the model's size), so copies of a small class's few images show."""
    from PIL import Image
    from quality import save_grid  # benchmarks/quality.py imports this module: imported late

    from augment_gan.runtime.generator import OnnxGenerator

    gen = OnnxGenerator.load(model_dir, providers=["CPUExecutionProvider"], intra_op_threads=1)
    fakes = np.stack([gen.generate(c, 10, seed=0)[..., 0] for c in CLASSES])
    side = fakes.shape[-1]
    reals = np.stack(
        [
            [
                np.asarray(Image.fromarray(images[i]).resize((side, side), Image.Resampling.BILINEAR))
                for i in train_split[int(c)][:5]
            ]
            for c in CLASSES
        ]
    )
    saved = save_grid(path, fakes, reals, CLASSES, title, real_label="real (training)")
    return {"path": str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path), **saved}


# --- the classifier -----------------------------------------------------------------------
def make_cnn():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 10),
    )


# Elastic distortion as Simard et al. 2003 used it on MNIST (alpha 34, sigma 4, in pixels).
ELASTIC = dict(alpha=34.0, sigma=4.0)


def transforms_for(aug: str):
    """'none', 'affine' or 'affine+elastic' on 28x28 gray PIL images, then to [-1, 1] tensors."""
    from torchvision import transforms as T

    steps = [T.Grayscale(1)]
    if aug in ("affine", "affine+elastic"):
        steps.append(T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)))
    if aug == "affine+elastic":
        steps.append(T.ElasticTransform(**ELASTIC))
    elif aug not in ("none", "affine"):
        raise ValueError(f"unknown augmentation {aug!r}")
    steps += [T.ToTensor(), T.Normalize((0.5,), (0.5,))]
    return T.Compose(steps)


def natural_weights(balanced_weights, targets: list[int], real_counts: list[int]):
    """BalancedDataset's per-sample weights (equal mass per class) rescaled so that each class
    has the mass of its real images in the folder, as uniform sampling would give it; the
    synthetic share within a class is kept. How synthetic samples go on top of a recipe that
    samples uniformly (the logit-adjusted loss)."""
    import torch

    t = torch.tensor(targets)
    counts = torch.tensor(real_counts, dtype=torch.float64)
    return balanced_weights * (counts / counts.sum() * len(real_counts))[t]


def class_prior(weights, targets: list[int], n_classes: int = 10):
    """The class distribution a sampler with these per-sample weights draws from."""
    import torch

    prior = torch.zeros(n_classes, dtype=torch.float64).index_add_(0, torch.tensor(targets), weights.double())
    return (prior / prior.sum()).float()


def build_data(strategy: dict, dirs: dict, n_samples: int, seed: int):
    """(dataset, sampler, class prior of the sampler) for one strategy."""
    import torch
    from torch.utils.data import WeightedRandomSampler
    from torchvision.datasets import ImageFolder

    g = torch.Generator().manual_seed(10_000 + seed)
    tf = transforms_for(strategy["aug"])
    if strategy["kind"] == "balanced":
        from augment_gan import BalancedDataset

        real = ImageFolder(str(dirs["train"]), transform=tf)
        # one onnxruntime thread: with num_workers=0 the default ("auto", all cores) fights torch for the 2 cores
        ds = BalancedDataset(
            real,
            strategy["model"],
            target="max",
            synthetic_share=strategy["share"],
            seed=seed,
            intra_op_threads=1,
            mark_synthetic=True,
            select=strategy.get("select", True),
        )
        strategy.setdefault("synthetic_counts", dict(ds.synthetic_counts))
        strategy.setdefault("skipped_classes", dict(ds.skipped_classes))
        weights = ds.sample_weights()
        if strategy["sampling"] == "uniform":
            weights = natural_weights(weights, ds.targets, [ds.real_counts[c] for c in ds.classes])
    else:
        ds = ImageFolder(str(dirs[strategy["folder"]]), transform=tf)
        if ds.classes != CLASSES:
            raise RuntimeError(f"{dirs[strategy['folder']]} has classes {ds.classes}, expected {CLASSES}")
        t = torch.tensor(ds.targets)
        weights = (
            torch.ones(len(t), dtype=torch.float64)
            if strategy["sampling"] == "uniform"
            else (1.0 / torch.bincount(t, minlength=10).double())[t]
        )
    sampler = WeightedRandomSampler(weights, num_samples=n_samples, replacement=True, generator=g)
    return ds, sampler, class_prior(weights, ds.targets)


def evaluate_clf(model, x, y) -> dict:
    import torch
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    model.eval()
    with torch.inference_mode():
        pred = torch.cat([model(x[i : i + 1000]).argmax(1) for i in range(0, len(x), 1000)]).numpy()
    y = y.numpy()
    recalls = recall_score(y, pred, labels=list(range(10)), average=None, zero_division=0)
    return {
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "minority_recall": float(np.mean([recalls[d] for d in MINORITY])),
        "recall_per_class": [round(float(r), 4) for r in recalls],
    }


def train_clf(strategy: dict, dirs: dict, steps: int, seed: int, val, test) -> dict:
    """One classifier: ``steps`` Adam steps at batch 64 on the strategy's data and loss.

    ``loss`` "la" is the logit-adjusted cross-entropy of Menon et al. 2021 (tau 1): the log
    of the sampler's class prior is added to the logits while training, so a class seen
    rarely is not predicted rarely. ``synthetic_weight`` weights synthetic samples in the
    loss (augment_gan.synthetic_weighted_loss)."""
    import torch
    from torch.nn import functional as F
    from torch.utils.data import DataLoader

    from augment_gan import synthetic_weighted_loss

    torch.manual_seed(seed)
    ds, sampler, prior = build_data(strategy, dirs, steps * 64, seed)
    loader = DataLoader(ds, batch_size=64, sampler=sampler, num_workers=0, drop_last=True)
    model = make_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    adjust = prior.clamp_min(1e-12).log() if strategy["loss"] == "la" else torch.zeros(10)
    t0 = time.perf_counter()
    seen = torch.zeros(10, dtype=torch.long)
    synthetic_seen = 0
    done = 0
    model.train()
    for batch in loader:
        xb, yb = batch[0], batch[1]
        synthetic = batch[2] if len(batch) > 2 else torch.zeros(len(yb), dtype=torch.bool)
        per_sample = F.cross_entropy(model(xb) + adjust, yb, reduction="none")
        loss = synthetic_weighted_loss(per_sample, synthetic, strategy.get("synthetic_weight", 1.0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seen += torch.bincount(yb, minlength=10)
        synthetic_seen += int(synthetic.sum())
        done += 1
        if done >= steps:
            break
    seconds = time.perf_counter() - t0
    return {
        "seed": seed,
        "steps": done,
        "seconds": round(seconds, 2),
        "minority_share_seen": round(float(seen[list(MINORITY)].sum() / seen.sum()), 4),
        "synthetic_share_seen": round(synthetic_seen / float(seen.sum()), 4),
        "val": evaluate_clf(model, *val),
        "test": evaluate_clf(model, *test),
    }


# --- reporting ----------------------------------------------------------------------------
METRICS = ("macro_f1", "balanced_accuracy", "minority_recall")


def summarise(runs: list[dict], part: str) -> dict:
    out = {}
    for m in METRICS:
        vals = [r[part][m] for r in runs]
        out[m] = {
            "mean": statistics.fmean(vals),
            "std": statistics.stdev(vals) if len(vals) > 1 else None,
            "values": [round(v, 4) for v in vals],
        }
    return out


def paired_difference(candidate: list[float], baseline: list[float], confidence: float = 0.95) -> dict:
    """Mean of the per-seed differences candidate - baseline and its t confidence interval.

    Paired: seed k of every strategy starts from the same classifier weights, so the
    differences cancel what the seed alone does. ``significant`` when the interval excludes 0."""
    from scipy import stats

    if len(candidate) != len(baseline):
        raise ValueError(f"pair runs of the same seeds: {len(candidate)} vs {len(baseline)} values")
    diffs = [a - b for a, b in zip(candidate, baseline)]
    n, mean = len(diffs), statistics.fmean(diffs)
    if n < 2:
        return {"mean": mean, "ci95": None, "n": n, "significant": False}
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * statistics.stdev(diffs) / math.sqrt(n)
    lo, hi = mean - half, mean + half
    return {"mean": mean, "ci95": [lo, hi], "n": n, "significant": bool(lo > 0 or hi < 0)}


def paired_table(runs: dict[str, list[dict]], candidates: list[str], baselines: tuple[str, ...]) -> dict:
    """For every candidate against every baseline: the paired test-set difference per metric."""
    return {
        cand: {
            base: {
                m: paired_difference([r["test"][m] for r in runs[cand]], [r["test"][m] for r in runs[base]])
                for m in METRICS
            }
            for base in baselines
        }
        for cand in candidates
    }


def agreement(gate: dict, runs: dict[str, list[dict]], classes=MINORITY, baseline: str = BASELINE) -> dict:
    """The gate's verdict per small class beside what its samples measurably do: the paired
    test-recall change of that class under ``DEFAULT_STRATEGY`` on (c) against (c), with the
    samples of the gate-bypassed model when there is one (so every class has samples), else
    of the gated one. ``effect``: helps / hurts (the 95 % CI excludes 0) or tie. The counts
    are the gate's confusion: a class that helps should pass, one that hurts should fail."""
    candidate = next(
        (
            k
            for k in (f"{DEFAULT_STRATEGY}*@{baseline}", f"{DEFAULT_STRATEGY}@{baseline}")
            if len(runs.get(k, [])) == len(runs.get(baseline, [])) > 0
        ),
        None,
    )
    if candidate is None:
        return {"candidate": None}
    rows, counts = {}, {}
    for d in classes:
        diff = paired_difference(
            [r["test"]["recall_per_class"][d] for r in runs[candidate]],
            [r["test"]["recall_per_class"][d] for r in runs[baseline]],
        )
        effect = "tie" if not diff["significant"] else ("helps" if diff["mean"] > 0 else "hurts")
        verdict = "pass" if gate[str(d)]["passed"] else "fail"
        rows[str(d)] = {"gate": verdict, "reasons": gate[str(d)]["reasons"], "recall_change": diff, "effect": effect}
        counts[f"{verdict}/{effect}"] = counts.get(f"{verdict}/{effect}", 0) + 1
    return {"candidate": candidate, "baseline": baseline, "classes": rows, "counts": counts}


def diff_cells(diffs: dict) -> str:
    """One paired comparison per metric: mean [95 % CI], starred when the interval excludes 0."""
    cells = []
    for m in METRICS:
        d = diffs[m]
        ci = "" if d["ci95"] is None else f" [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
        cells.append(f"{m} {d['mean']:+.4f}{ci}{'*' if d['significant'] else ''}")
    return ", ".join(cells)


def fmt(s: dict) -> str:
    return f"{s['mean']:.4f} ± {s['std']:.4f}" if s["std"] is not None else f"{s['mean']:.4f}"


def pick_c_plus(runs: dict[str, list[dict]], candidates=C_PLUS_CANDIDATES) -> str:
    """(c+): the classic candidate with the best mean VALIDATION macro-F1 (never test)."""
    return max(
        [k for k in candidates if runs.get(k)], key=lambda k: statistics.fmean(r["val"]["macro_f1"] for r in runs[k])
    )


def tabulate(result: dict, strategies: dict, runs: dict) -> None:
    """result["strategies"], ["best_by_val"] and ["paired_vs_baselines"] from the runs so far."""
    table = {}
    for key, s in strategies.items():
        if not runs.get(key):
            continue
        table[key] = {
            "label": s["label"],
            "augment_gan": bool(s.get("gan")),
            "on_top_of": s.get("base"),
            "recipe": {k: s.get(k) for k in ("kind", "sampling", "aug", "loss", "share", "synthetic_weight", "select")},
            "synthetic_counts": s.get("synthetic_counts"),
            "skipped_classes": s.get("skipped_classes"),
            "test": summarise(runs[key], "test"),
            "val": summarise(runs[key], "val"),
            "mean_seconds": round(statistics.fmean(r["seconds"] for r in runs[key]), 1),
            "minority_share_seen": round(statistics.fmean(r["minority_share_seen"] for r in runs[key]), 4),
            "synthetic_share_seen": round(statistics.fmean(r.get("synthetic_share_seen", 0.0) for r in runs[key]), 4),
            "runs": runs[key],
        }
    result["strategies"] = table
    baselines = tuple(dict.fromkeys([BASELINE, result.get("c_plus", BASELINE)]))
    # the best augment-gan strategy, chosen on VALIDATION macro-F1 (gated and bypassed separately)
    best = {}
    for group, keys in (
        ("gated", [k for k in table if table[k]["augment_gan"] and "*" not in k]),
        ("gate_bypassed", [k for k in table if table[k]["augment_gan"] and "*" in k]),
    ):
        if keys:
            best[group] = max(keys, key=lambda k: table[k]["val"]["macro_f1"]["mean"])
    result["best_by_val"] = best
    gan_keys = [k for k in table if table[k]["augment_gan"]]
    complete = [k for k in gan_keys if len(runs[k]) == len(runs[BASELINE])]
    result["paired_vs_baselines"] = paired_table(runs, complete, baselines)
    # per-sample selection on vs off, same everything else, seed by seed
    result["selection_effect"] = {
        f"{on} - {off}": paired_table(runs, [on], (off,))[on][off]
        for on in complete
        if on.split("@")[0].rstrip("*") == "f25" and (off := on.replace("f25", "f25ns", 1)) in complete
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    p.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 150 GAN steps, 150 classifier steps")
    p.add_argument("--seeds", type=int, default=None, help="classifier seeds (default 5; quick 2)")
    p.add_argument("--gan-steps", type=int, default=None, help="GAN steps (default 800; quick 150)")
    p.add_argument(
        "--clf-steps", type=int, default=None, help="classifier Adam steps at batch 64 (default 600; quick 150)"
    )
    p.add_argument("--n-major", type=int, default=400)
    p.add_argument("--n-minor", type=int, default=15)
    p.add_argument("--n-val", type=int, default=None, help="validation images per class (default 100; quick 50)")
    p.add_argument("--n-test", type=int, default=None, help="test images per class (default 300; quick 100)")
    p.add_argument("--eval-samples", type=int, default=None, help="GAN eval samples per class (default 200; quick 100)")
    p.add_argument(
        "--judge-steps",
        type=int,
        default=None,
        help="steps of the evaluation's domain judge (default: the library's 400; quick 100)",
    )
    p.add_argument(
        "--balanced",
        default=None,
        help=f"BalancedDataset variants to run, comma-separated (default all: {','.join(BALANCED_VARIANTS)})",
    )
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--gan-seed", type=int, default=0)
    p.add_argument("--diffaugment", default=None, help="the GAN's DiffAugment policy (default: the library's)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--keep", type=Path, default=None, help="work in this dir and keep it (default: a temp dir)")
    a = p.parse_args()
    q = a.quick
    seeds = a.seeds or (2 if q else 5)
    gan_steps = a.gan_steps if a.gan_steps is not None else (150 if q else 800)
    clf_steps = a.clf_steps if a.clf_steps is not None else (150 if q else 600)
    n_val = a.n_val if a.n_val is not None else (50 if q else 100)
    n_test = a.n_test if a.n_test is not None else (100 if q else 300)
    eval_samples = a.eval_samples if a.eval_samples is not None else (100 if q else 200)
    judge_steps = a.judge_steps if a.judge_steps is not None else (100 if q else None)
    regime = "" if a.n_minor == 15 else f"-minor{a.n_minor}"  # utility.json: the 15-image regime
    out_path = a.out or REPO / "benchmarks" / "results" / ("utility-quick.json" if q else f"utility{regime}.json")
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f}s] {msg}", flush=True)

    import torch

    images, labels = load_mnist(a.mnist)
    split = make_split(labels, a.n_major, a.n_minor, n_val, n_test, a.split_seed)
    tmp_ctx = tempfile.TemporaryDirectory(prefix="utility-bench-") if a.keep is None else None
    work = Path(tmp_ctx.name) if tmp_ctx else a.keep
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AUGMENT_GAN_CACHE_DIR", str(work / "cache"))  # judges and decoded images: not ~/.cache
    result: dict = {
        "benchmark": "utility",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "quick": q,
        "split": {
            "source": "MNIST t10k",
            "seed": a.split_seed,
            "minority_digits": list(MINORITY),
            "train_per_class": {str(d): len(split["train"][d]) for d in range(10)},
            "val_per_class": n_val,
            "test_per_class": n_test,
        },
        "budgets": {
            "gan_steps": gan_steps,
            "classifier_steps": clf_steps,
            "classifier_batch": 64,
            "classifier": "conv32-pool-conv64-pool-fc, Adam lr 1e-3, 28x28 gray",
            "seeds": seeds,
        },
        "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "torch_threads": torch.get_num_threads()},
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
        "timings_s": {},
    }
    try:
        dirs = {"train": work / "train"}
        t0 = time.perf_counter()
        write_folder(dirs["train"], images, split["train"])
        val, test = as_tensor(images, split["val"]), as_tensor(images, split["test"])
        result["timings_s"]["write_split"] = round(time.perf_counter() - t0, 1)
        log(f"split written: train {result['split']['train_per_class']}, val {n_val}/class, test {n_test}/class")

        log(f"training the GAN for {gan_steps} steps (demo nets) ...")
        t0 = time.perf_counter()
        gan = train_gan(
            dirs["train"],
            work / "models",
            gan_steps,
            eval_samples,
            a.gan_seed,
            log,
            judge_steps,
            a.diffaugment,
            quick=q,
        )
        result["timings_s"]["gan_total"] = round(time.perf_counter() - t0, 1)
        result["timings_s"]["gan_parts"] = {k: round(v, 1) for k, v in gan["seconds"].items()}
        model_dir, lenient_dir = gan.pop("model_dir"), gan.pop("lenient_model_dir")
        gan.pop("seconds")
        result["gan"] = gan
        log(
            f"gate at step {gan['best_step']}: passed {gan['gate_passed_classes']}; minority {gan['minority_passed_gate']}"
        )
        for d in MINORITY:
            if not gan["gate"][str(d)]["passed"]:
                log(f"  class {d} fails: {'; '.join(gan['gate'][str(d)]['reasons'])}")

        grids = {}
        for tag, mdir, what in (("", model_dir, "gated"), ("-bypassed", lenient_dir, "gate bypassed")):
            if mdir is not None:
                path = out_path.parent / "utility" / f"{out_path.stem}{tag}.png"
                grids[what] = save_gan_grid(
                    mdir, images, split["train"], path, f"GAN {what}, minority {a.n_minor} images (*)"
                )
        result["gan_grids"] = grids

        from augment_gan.augment import augment_folder

        # the `augment` CLI's two uses: fill small classes to the top, or write them up to a capped share
        t0 = time.perf_counter()
        fills = {}
        models = [("", model_dir, "gated"), ("*", lenient_dir, "GATE BYPASSED")]
        for tag, mdir, _ in models:
            if mdir is None:
                continue
            for use, options in (("filled", dict(target="max")), ("capped", dict(target="max", max_share=0.5))):
                dirs[use + tag] = work / f"train-{use}{'-bypassed' if tag else ''}"
                shutil.copytree(dirs["train"], dirs[use + tag])
                summary = augment_folder(dirs[use + tag], mdir, seed=0, **options)
                fills[use + tag] = {c: n for c, n in summary.written.items()}
        result["augment_folder_written"] = fills
        result["timings_s"]["augment_folder"] = round(time.perf_counter() - t0, 1)
        log(f"augment_folder wrote {fills}")

        classic = QUICK["classic"] if q else tuple(CLASSIC)
        chosen = a.balanced.split(",") if a.balanced else (QUICK["balanced"] if q else BALANCED_VARIANTS)
        balanced_variants = {k: BALANCED_VARIANTS[k] for k in chosen}
        strategies: dict[str, dict] = {k: dict(kind="folder", folder="train", **CLASSIC[k]) for k in classic}
        runs: dict[str, list[dict]] = {}

        def run_all(keys: list[str], phase: str) -> None:
            t0 = time.perf_counter()
            for seed in range(seeds):  # seeds outermost: a partial run still covers every strategy
                for key in keys:
                    r = train_clf(strategies[key], dirs, clf_steps, seed, val, test)
                    runs.setdefault(key, []).append(r)
                    log(
                        f"  {key:14s} seed {seed}: test macro-F1 {r['test']['macro_f1']:.4f}  bal-acc "
                        f"{r['test']['balanced_accuracy']:.4f}  minority recall {r['test']['minority_recall']:.4f}  "
                        f"({r['seconds']:.0f}s)"
                    )
                result["timings_s"][phase] = round(time.perf_counter() - t0, 1)
                result["seeds_completed"] = {**result.get("seeds_completed", {}), phase: seed + 1}
                tabulate(result, strategies, runs)
                out_path.parent.mkdir(parents=True, exist_ok=True)
                out_path.write_text(json.dumps(result, indent=2, default=str) + "\n")  # partial results survive

        # phase 1: the classic recipes; (c+) is picked among them on validation
        run_all(list(classic), "classic")
        result["c_plus"] = c_plus = pick_c_plus(runs)
        log(f"(c+) = {c_plus}: {CLASSIC[c_plus]['label']} (best validation macro-F1 of {', '.join(C_PLUS_CANDIDATES)})")

        # phase 2: augment-gan on top of (c) and (c+)
        if model_dir is not None and not any(gan["minority_passed_gate"].values()):
            # BalancedDataset and augment add samples to gated classes below the target only: with no
            # minority class passed, every gated strategy would train on the real images alone
            models[0] = ("", None, "gated")
            result["gated_strategies"] = (
                "not run: the gate passed no minority class, so every gated strategy "
                "would train on the real images alone"
            )
            log(result["gated_strategies"])
        for tag, mdir, note in models:
            if mdir is None:
                continue
            strategies["e" + tag] = dict(
                label=f"augment_folder(max) files, uniform + affine [{note}]",
                kind="folder",
                folder="filled" + tag,
                sampling="uniform",
                aug="affine",
                loss="ce",
                gan=True,
                base="c",
            )
            strategies["g" + tag] = dict(
                label=f"augment_folder(max_share 0.5) files, oversampled + affine [{note}]",
                kind="folder",
                folder="capped" + tag,
                sampling="balanced",
                aug="affine",
                loss="ce",
                gan=True,
                base="c",
            )
            for base in dict.fromkeys(["c", c_plus]):
                for name, (share, weight, select) in balanced_variants.items():
                    recipe = {k: CLASSIC[base][k] for k in ("sampling", "aug", "loss")}
                    strategies[f"{name}{tag}@{base}"] = dict(
                        label=(
                            f"BalancedDataset share {share}, synthetic loss weight {weight}"
                            f"{'' if select else ', selection off'}, on ({base}) [{note}]"
                        ),
                        kind="balanced",
                        model=mdir,
                        share=share,
                        synthetic_weight=weight,
                        select=select,
                        gan=True,
                        base=base,
                        **recipe,
                    )
        run_all([k for k in strategies if k not in classic], "augment_gan")
        result["gate_agreement"] = agreement(gan["gate"], runs)
        result["timings_s"]["total"] = round(time.perf_counter() - start, 1)
    finally:
        try:
            result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        except OSError:
            pass
        if tmp_ctx is not None:
            tmp_ctx.cleanup()

    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2, default=str) + "\n")

    print()
    print(f"test split ({n_test}/class), {seeds} seed(s), classifier {clf_steps} steps, GAN {gan_steps} steps")
    print(f"{'':15s}{'strategy':75s} {'macro-F1':>17s} {'balanced acc':>17s} {'minority recall':>17s}")
    for key, row in result["strategies"].items():
        t = row["test"]
        print(
            f"{key:15s}{row['label']:75s} {fmt(t['macro_f1']):>17s} {fmt(t['balanced_accuracy']):>17s} "
            f"{fmt(t['minority_recall']):>17s}"
        )
    print(f"(c+) = {result['c_plus']} (by validation macro-F1)")
    for group, key in result["best_by_val"].items():
        print(f"best augment-gan [{group}] by val macro-F1 = {key}")
    print("paired test-set differences vs the baselines (mean [95 % CI]; * = the interval excludes 0):")
    pairs = [
        (cand, base, diffs)
        for cand, by_base in result["paired_vs_baselines"].items()
        for base, diffs in by_base.items()
    ]
    pairs += [(*key.split(" - "), diffs) for key, diffs in result.get("selection_effect", {}).items()]
    for cand, base, diffs in pairs:
        print(f"  {cand:14s} - {base:10s}: " + diff_cells(diffs))
    agree = result.get("gate_agreement", {})
    for d, row in agree.get("classes", {}).items():
        ci = row["recall_change"]["ci95"]
        print(
            f"gate vs utility, class {d}: gate {row['gate']}; recall {agree['candidate']} - {agree['baseline']} "
            f"{row['recall_change']['mean']:+.4f}"
            + (f" [{ci[0]:+.4f}, {ci[1]:+.4f}]" if ci else "")
            + f": {row['effect']}"
        )
    print(f"wrote {out_path} (total {result['timings_s']['total']:.0f}s)")


if __name__ == "__main__":
    main()
