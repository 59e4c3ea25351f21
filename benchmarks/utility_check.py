"""Downstream utility, a smaller second check on data the GAN path has not been tuned on.

The same question as ``utility.py`` (does augment-gan's synthetic data help a classifier
beyond classic augmentation?), asked on two small datasets that ship with scikit-learn, so
nothing is downloaded. Each is split per class into disjoint train / validation / test
parts; only the train part is written as a PNG ImageFolder (in a temp dir), on which the
toolkit's own pipeline trains, evaluates, gates and promotes a class-conditional GAN exactly
as ``utility.train_gan`` does (demo nets g_width 16 / d_width 16, the library's training
defaults otherwise, ``GateThresholds()``). If a minority class fails the gate, the last
step is ALSO promoted with lenient thresholds and the synthetic strategies are run with
that model too, labelled ``*`` ("gate bypassed").

digits  scikit-learn's ``load_digits`` (8x8 gray, 1,797 images), converted to PNG exactly
        as ``augment_gan.data.digits.write_digits_folder`` does (ink 0..16 -> 0..255). Per
        class (seeded): 30 validation and 50 test images are held out, the rest (97-103) is
        the train split, except the minority digits 7, 8, 9, cut to 20, 15 and 10 training
        images (half of what the demo's folder keeps: 40, 30, 20). The classifier works at
        the folder's native 8x8; the GAN (which trains at 32x32) is resized back by
        ``BalancedDataset``.
rgb     64x64 RGB crops of the two photographs of ``load_sample_images`` (china.jpg,
        flower.jpg, 427x640). Each photo is cut into 3 vertical bands -> 6 classes
        (china-left ... flower-right), and each band into 5 horizontal strips of ~85 rows.
        Train crops come from strips 0, 2, 4, validation crops from strip 1 and test crops
        from strip 3, every crop lying inside one strip: the three splits never share a
        pixel, and each still spans the band from top to bottom. Random (seeded) crops:
        300 training crops per class, 15 for the minority classes china-right and
        flower-left (each has a look-alike majority class: china-left's trees, flower-
        right's blurred leaves); 60 validation and 150 test crops per class. The GAN trains
        at 32x32, to fit the budget (64x64 nets add a block and four times the pixels);
        the classifier works at 32x32 too (real and synthetic images through the same
        ``Resize(32)``), so that real and synthetic images carry the same detail.

The same small CNN (conv32-pool-conv64-pool-fc on digits, conv16-pool-conv32-pool-fc on rgb)
is trained for every strategy with the same budget (``--clf-steps`` Adam steps, lr 1e-3,
batch 64) and several seeds; seed k of every strategy starts from the same weights and
draws from the same sampler seed (paired):

  c           class-balanced oversampling + RandomAffine(10 deg, translate 0.1, scale 0.9-1.1)   <- the bar
  c-elastic   (digits) c + elastic distortion: Simard et al. 2003's field (alpha 34, sigma 4 on
              28x28) made the same on 8x8 (alpha 34 (8/28)^2, sigma 4 (8/28))
  c-trivial   (rgb) class-balanced oversampling + RandomHorizontalFlip + TrivialAugmentWide
  la          uniform sampling + affine, logit-adjusted loss (Menon et al. 2021, tau 1)

(c+) is the one of these with the best VALIDATION macro-F1. Then augment-gan on top of (c)
and of (c+): ``BalancedDataset(target="max", mark_synthetic=True)`` with recipe B's sampling,
augmentation and loss, the synthetic samples weighted with ``synthetic_weighted_loss``:

  f25@B       synthetic share 0.25 of each small class, synthetic samples weighted 1 (the defaults)
  f50w@B      synthetic share 0.5, synthetic samples weighted 0.5

A "small" class is one below the largest (target "max"): on digits that is every class but
the largest, on rgb only the two minority classes. A promoted model that would add no
synthetic image (every small class failed its gate) is not run: its strategies would repeat
(c) and (c+); the JSON says so under ``models_adding_nothing``.

Reported on the real test split: macro-F1, balanced accuracy and minority recall (mean
recall of the minority classes), mean +- std over seeds, plus validation macro-F1; and, for
every augment-gan strategy against (c) and (c+), the mean paired test-set difference with
its 95 % t interval (``utility.paired_table``). A difference whose interval contains 0 is a tie.

    .venv/bin/python benchmarks/utility_check.py [--data digits|rgb] [--quick] [--seeds 5]
        [--gan-steps N] [--clf-steps 300] [--out-dir DIR] [--keep DIR]

Defaults: 5 seeds, 300 classifier steps, GAN 1200 steps (digits) / 800 (rgb), 200 evaluation
samples per class, the library's 400 judge steps. ``--quick`` (a smoke run, about a minute
per dataset): 2 seeds, 60 classifier steps, 40 GAN steps, 50 evaluation samples, 50 judge
steps, and on rgb 80 / 15 training, 20 validation and 40 test crops per class.

JSON (written after every seed, so a killed run keeps its partial results):
``benchmarks/results/utility-digits.json`` and ``utility-rgb.json`` (``-quick`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when imported by the tests
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from utility import (
    LENIENT,
    class_prior,
    diff_cells,
    fmt,
    log_gates,
    natural_weights,
    paired_table,  # noqa: E402
    pick_c_plus,
    summarise,
    write_folder,
)

REPO = Path(__file__).resolve().parent.parent
BASELINE = "c"

# --- the two datasets ---------------------------------------------------------------------
DIGIT_CLASSES = [str(d) for d in range(10)]
DIGITS_MINORITY = {7: 20, 8: 15, 9: 10}  # training images kept; half of write_digits_folder's 40/30/20
DIGITS_VAL, DIGITS_TEST = 30, 50  # held out per class; the rest of a majority class trains

PHOTOS = ("china", "flower")  # load_sample_images' order (china.jpg, flower.jpg)
BANDS = ("left", "middle", "right")
RGB_CLASSES = [f"{p}-{b}" for p in PHOTOS for b in BANDS]  # sorted, as ImageFolder orders them
RGB_MINORITY = ("china-right", "flower-left")
CROP = 64
N_STRIPS = 5
STRIPS = {"train": (0, 2, 4), "val": (1,), "test": (3,)}  # horizontal strips of a band, per split
RGB_COUNTS = {"train_major": 300, "train_minor": 15, "val": 60, "test": 150}
RGB_QUICK_COUNTS = {"train_major": 80, "train_minor": 15, "val": 20, "test": 40}


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """load_digits as uint8 8x8 images with ink bright, converted as write_digits_folder does."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return np.round(digits.images * (255.0 / 16.0)).astype(np.uint8), digits.target.astype(np.int64)


def make_digits_split(
    labels: np.ndarray,
    n_val: int = DIGITS_VAL,
    n_test: int = DIGITS_TEST,
    minority: dict[int, int] | None = None,
    seed: int = 0,
) -> dict:
    """Disjoint train / val / test indices per digit (seeded): val and test held out first, the
    rest trains, cut to ``minority[d]`` images for a minority digit."""
    minority = DIGITS_MINORITY if minority is None else minority
    rng = np.random.default_rng(seed)
    split: dict = {"train": {}, "val": {}, "test": {}}
    for d in range(10):
        idx = rng.permutation(np.flatnonzero(labels == d))
        rest = idx[n_val + n_test :]
        if d in minority:
            rest = rest[: minority[d]]
        if len(rest) < 2:
            raise SystemExit(f"digit {d} has {len(idx)} images: too few for {n_val} + {n_test} held out")
        split["val"][d] = sorted(idx[:n_val].tolist())
        split["test"][d] = sorted(idx[n_val : n_val + n_test].tolist())
        split["train"][d] = sorted(rest.tolist())
    return split


def write_digits_split(root: Path, images: np.ndarray, train: dict) -> None:
    """The train split as ``root/<digit>/digit-XXXX.png``, the files write_digits_folder writes."""
    write_folder(root, images, train, name="digit-{:04d}.png")


def strip_rows(height: int) -> list[tuple[int, int]]:
    """[top, bottom) of each of the N_STRIPS horizontal strips of a band."""
    edges = np.linspace(0, height, N_STRIPS + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def band_cols(width: int) -> list[tuple[int, int]]:
    """[left, right) of each vertical band (a class) of a photo."""
    edges = np.linspace(0, width, len(BANDS) + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def split_areas(shape: tuple[int, ...]) -> dict[str, list[tuple[int, int, int, int]]]:
    """Per split, the (top, bottom, left, right) areas of class 0 ... 5 a crop is taken from;
    an area is one strip of one band, and a split's crops of a class come from its strips."""
    rows, cols = strip_rows(shape[0]), band_cols(shape[1])
    return {part: [(*rows[s], *cols[b]) for b in range(len(BANDS)) for s in strips] for part, strips in STRIPS.items()}


def make_rgb_crops(photos: list[np.ndarray], counts: dict[str, int] | None = None, seed: int = 0) -> dict:
    """{"train" | "val" | "test": {class index: (crops uint8 (n, 64, 64, 3), boxes (n, 2) top-left)}}.

    A crop lies inside one strip of its band (the strip drawn uniformly among the split's,
    then a uniform position in it); the generator is seeded by (seed, split, class), so
    changing one split's counts does not redraw another's."""
    counts = RGB_COUNTS if counts is None else counts
    if any(p.shape[0] // N_STRIPS < CROP or p.shape[1] // len(BANDS) < CROP for p in photos):
        raise ValueError(f"photos of {[p.shape for p in photos]} are too small for {CROP}x{CROP} crops in strips")
    out: dict = {}
    for part_id, part in enumerate(("train", "val", "test")):
        out[part] = {}
        for c, name in enumerate(RGB_CLASSES):
            photo = photos[c // len(BANDS)]
            band = c % len(BANDS)
            areas = split_areas(photo.shape)[part][band * len(STRIPS[part]) : (band + 1) * len(STRIPS[part])]
            n = counts[part] if part != "train" else counts["train_minor" if name in RGB_MINORITY else "train_major"]
            rng = np.random.default_rng([seed, part_id, c])
            crops, boxes = np.empty((n, CROP, CROP, 3), np.uint8), np.empty((n, 2), np.int64)
            for k in range(n):
                top, bottom, left, right = areas[rng.integers(len(areas))]
                y, x = int(rng.integers(top, bottom - CROP + 1)), int(rng.integers(left, right - CROP + 1))
                crops[k], boxes[k] = photo[y : y + CROP, x : x + CROP], (y, x)
            out[part][c] = (crops, boxes)
    return out


def write_rgb_split(root: Path, train: dict) -> None:
    from PIL import Image

    for c, (crops, boxes) in train.items():
        folder = root / RGB_CLASSES[c]
        folder.mkdir(parents=True, exist_ok=True)
        for k, (crop, (y, x)) in enumerate(zip(crops, boxes)):
            Image.fromarray(crop, mode="RGB").save(folder / f"crop-{k:04d}-y{y:03d}-x{x:03d}.png")


# Simard et al. 2003's elastic field on 28x28 MNIST (alpha 34, sigma 4), made geometrically the
# same on 8x8: sigma scales with the side, alpha with its square (torchvision displaces by
# alpha/2 times the blurred noise, whose amplitude falls as 1/sigma).
ELASTIC_8 = dict(alpha=34.0 * (8 / 28) ** 2, sigma=4.0 * 8 / 28)

# dataset -> what the benchmark needs to know of it. "image_size": the side of the folder's
# images; "clf_size": the side the classifier sees; "clf_width": its first conv's channels (rgb: 16,
# a quarter of the compute of 32 at 32x32, so that both datasets fit in about 25 minutes).
DATASETS: dict[str, dict] = {
    "digits": dict(
        classes=DIGIT_CLASSES,
        minority=[str(d) for d in DIGITS_MINORITY],
        channels=1,
        image_size=8,
        clf_size=8,
        clf_width=32,
        gan_steps=1200,
        c_plus_extra="c-elastic",
    ),
    "rgb": dict(
        classes=RGB_CLASSES,
        minority=list(RGB_MINORITY),
        channels=3,
        image_size=CROP,
        clf_size=32,
        clf_width=16,
        gan_steps=800,
        c_plus_extra="c-trivial",
    ),
}
CLASSIC: dict[str, dict] = {
    "c": dict(label="oversampled + affine", sampling="balanced", aug="affine", loss="ce"),
    "c-elastic": dict(label="oversampled + affine + elastic", sampling="balanced", aug="affine+elastic", loss="ce"),
    "c-trivial": dict(
        label="oversampled + h-flip + TrivialAugmentWide", sampling="balanced", aug="flip+trivial", loss="ce"
    ),
    "la": dict(label="uniform + affine, logit-adjusted loss", sampling="uniform", aug="affine", loss="la"),
}
# BalancedDataset on top of a classic recipe: (synthetic share per small class, loss weight of a synthetic sample)
BALANCED_VARIANTS = {"f25": (0.25, 1.0), "f50w": (0.5, 0.5)}


def classic_keys(dataset: str) -> list[str]:
    """The classic recipes run on a dataset; (c+) is picked among them."""
    return ["c", DATASETS[dataset]["c_plus_extra"], "la"]


# --- the GAN ------------------------------------------------------------------------------
def train_gan(
    train_dir: Path,
    models_dir: Path,
    name: str,
    minority: list[str],
    steps: int,
    eval_samples: int,
    judge_steps: int | None,
    seed: int,
    log,
    quick: bool = False,
) -> dict:
    """``utility.train_gan`` for any folder: the toolkit's pipeline (train with evaluation at
    every checkpoint, gate, promote), then a lenient promotion of the last step if a minority
    class failed the gate."""
    from augment_gan.contracts.run_dir import RunDir
    from augment_gan.evaluation.evaluate import EvalConfig
    from augment_gan.evaluation.gate import GateThresholds, apply_gate
    from augment_gan.evaluation.utility import UtilityConfig
    from augment_gan.pipeline import run as run_pipeline
    from augment_gan.promote import promote_checkpoint
    from augment_gan.training import TrainConfig

    judge_steps = judge_steps if judge_steps is not None else EvalConfig.judge_steps
    every = max(steps // 2, 1)
    cfg = TrainConfig(steps=steps, checkpoint_every=every, seed=seed)  # the library's defaults otherwise
    thresholds = GateThresholds()
    result = run_pipeline(
        train_dir,
        name,
        models_dir=models_dir,
        net=dict(g_width=16, d_width=16),
        train=cfg,
        evaluation=EvalConfig(samples_per_class=eval_samples, seed=seed, judge_steps=judge_steps),
        thresholds=thresholds,
        eval_every=every,
        utility=UtilityConfig(seeds=2, steps=20) if quick else True,
    )  # --quick: smoke-sized
    run_dir, reports, step = result.run_dir, result.reports, result.best_step
    out: dict = {
        "steps": steps,
        "eval_samples_per_class": eval_samples,
        "judge_steps": judge_steps,
        "seed": seed,
        "net": RunDir(run_dir).read_config()["net"],
        "train_config": cfg.to_dict(),
        "seconds": dict(result.seconds),
        "evaluated_steps": sorted(reports),
        "best_step": step,
    }
    rep = reports[step]
    out["per_class_metrics"] = {
        c: {
            k: rep["classes"][c].get(k)
            for k in ("n_reference", "fid", "kid", "precision", "recall", "coverage", "class_consistency", "copy_rate")
        }
        for c in rep["classes"]
    }
    decision = apply_gate(rep, thresholds)
    out["gate"] = {c: {"passed": r["passed"], "reasons": r["reasons"]} for c, r in decision["per_class"].items()}
    out["gate_passed_classes"] = decision["passed_classes"]
    out["minority_passed_gate"] = {c: c in decision["passed_classes"] for c in minority}
    log_gates("GAN", reports, log)
    out["model_dir"] = result.model_dir  # None: no class passed
    out["gated_model"] = os.path.relpath(result.model_dir, models_dir) if result.model_dir else None
    out["lenient_model_dir"] = None
    t0 = time.perf_counter()
    if not all(out["minority_passed_gate"].values()):
        final = max(reports)
        lenient_dir, ldec = promote_checkpoint(
            run_dir, final, GateThresholds(**LENIENT), utility=False, models_dir=models_dir / "gate-bypassed"
        )
        out["lenient_model_dir"] = lenient_dir
        out["lenient"] = {
            "step": final,
            "thresholds": LENIENT,
            "passed_classes": ldec["passed_classes"],
            "model": os.path.relpath(lenient_dir, models_dir),
        }
    out["seconds"]["lenient_promote"] = time.perf_counter() - t0
    return out


def synthetic_plan(train_dir: Path, model_dir: Path) -> tuple[dict, dict]:
    """BalancedDataset's synthetic counts and skipped classes for the folder and a model."""
    from torchvision.datasets import ImageFolder

    from augment_gan import BalancedDataset

    ds = BalancedDataset(ImageFolder(str(train_dir)), model_dir, target="max", intra_op_threads=1)
    return dict(ds.synthetic_counts), dict(ds.skipped_classes)


# --- the classifier -----------------------------------------------------------------------
def make_cnn(channels: int, size: int, n_classes: int, width: int = 32):
    """utility.make_cnn for any input: conv(width)-pool-conv(2 width)-pool-fc."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * width * (size // 4) ** 2, n_classes),
    )


def transforms_for(spec: dict, aug: str):
    """PIL image (as ImageFolder loads it: RGB) -> the classifier's size and channels, the
    augmentation ``aug``, then a [-1, 1] tensor. Resized before augmenting, so every recipe
    augments at the size the classifier sees."""
    from torchvision import transforms as T

    steps = [T.Grayscale(1)] if spec["channels"] == 1 else []
    if spec["clf_size"] != spec["image_size"]:
        steps.append(T.Resize(spec["clf_size"]))  # rgb: 64 -> 32, bilinear with antialiasing
    if aug in ("affine", "affine+elastic"):
        steps.append(T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)))
    if aug == "affine+elastic":
        steps.append(T.ElasticTransform(**ELASTIC_8))
    elif aug == "flip+trivial":
        steps += [T.RandomHorizontalFlip(), T.TrivialAugmentWide()]
    elif aug not in ("none", "affine"):
        raise ValueError(f"unknown augmentation {aug!r}")
    steps += [T.ToTensor(), T.Normalize((0.5,) * spec["channels"], (0.5,) * spec["channels"])]
    return T.Compose(steps)


def as_tensor(spec: dict, images_by_class: dict[int, np.ndarray]):
    """Held-out images (uint8, (n, H, W) or (n, H, W, 3)) through the classifier's un-augmented
    transform, so that they are resized exactly as the training images are."""
    import torch
    from PIL import Image

    tf = transforms_for(spec, "none")
    xs, ys = [], []
    for c in sorted(images_by_class):
        for img in images_by_class[c]:
            xs.append(tf(Image.fromarray(img).convert("RGB")))
            ys.append(c)
    return torch.stack(xs), torch.tensor(ys, dtype=torch.long)


def build_data(spec: dict, strategy: dict, train_dir: Path, n_samples: int, seed: int):
    """(dataset, sampler, class prior of the sampler) for one strategy."""
    import torch
    from torch.utils.data import WeightedRandomSampler
    from torchvision.datasets import ImageFolder

    n = len(spec["classes"])
    real = ImageFolder(str(train_dir), transform=transforms_for(spec, strategy["aug"]))
    if real.classes != spec["classes"]:
        raise RuntimeError(f"{train_dir} has classes {real.classes}, expected {spec['classes']}")
    if strategy.get("model") is not None:
        from augment_gan import BalancedDataset

        # one onnxruntime thread: with num_workers=0 the default ("auto", all cores) fights torch for the 2 cores
        ds = BalancedDataset(
            real,
            strategy["model"],
            target="max",
            synthetic_share=strategy["share"],
            seed=seed,
            intra_op_threads=1,
            mark_synthetic=True,
        )
        strategy.setdefault("synthetic_counts", dict(ds.synthetic_counts))
        strategy.setdefault("skipped_classes", dict(ds.skipped_classes))
        weights = ds.sample_weights()
        if strategy["sampling"] == "uniform":
            weights = natural_weights(weights, ds.targets, [ds.real_counts[c] for c in ds.classes])
    else:
        ds = real
        t = torch.tensor(ds.targets)
        weights = (
            torch.ones(len(t), dtype=torch.float64)
            if strategy["sampling"] == "uniform"
            else (1.0 / torch.bincount(t, minlength=n).double())[t]
        )
    g = torch.Generator().manual_seed(10_000 + seed)
    sampler = WeightedRandomSampler(weights, num_samples=n_samples, replacement=True, generator=g)
    return ds, sampler, class_prior(weights, ds.targets, n)


def evaluate_clf(model, x, y, n_classes: int, minority: list[int]) -> dict:
    import torch
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    model.eval()
    with torch.inference_mode():
        pred = torch.cat([model(x[i : i + 1000]).argmax(1) for i in range(0, len(x), 1000)]).numpy()
    y = y.numpy()
    recalls = recall_score(y, pred, labels=list(range(n_classes)), average=None, zero_division=0)
    return {
        "macro_f1": float(f1_score(y, pred, labels=list(range(n_classes)), average="macro", zero_division=0)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "minority_recall": float(np.mean([recalls[c] for c in minority])),
        "recall_per_class": [round(float(r), 4) for r in recalls],
    }


def train_clf(spec: dict, strategy: dict, train_dir: Path, steps: int, seed: int, val, test) -> dict:
    """One classifier: ``steps`` Adam steps (lr 1e-3) at batch 64, as ``utility.train_clf``.

    Seed k: the same initial weights (torch.manual_seed(k) right before the net is built)
    and the same sampler seed for every strategy. ``loss`` "la" adds the log of the
    sampler's class prior to the logits while training (Menon et al. 2021, tau 1)."""
    import torch
    from torch.nn import functional as F
    from torch.utils.data import DataLoader

    from augment_gan import synthetic_weighted_loss

    n = len(spec["classes"])
    minority = [spec["classes"].index(c) for c in spec["minority"]]
    torch.manual_seed(seed)
    model = make_cnn(spec["channels"], spec["clf_size"], n, spec["clf_width"])
    ds, sampler, prior = build_data(spec, strategy, train_dir, steps * 64, seed)
    loader = DataLoader(ds, batch_size=64, sampler=sampler, num_workers=0, drop_last=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    adjust = prior.clamp_min(1e-12).log() if strategy["loss"] == "la" else torch.zeros(n)
    t0 = time.perf_counter()
    seen = torch.zeros(n, dtype=torch.long)
    synthetic_seen = done = 0
    model.train()
    for batch in loader:
        xb, yb = batch[0], batch[1]
        synthetic = batch[2] if len(batch) > 2 else torch.zeros(len(yb), dtype=torch.bool)
        per_sample = F.cross_entropy(model(xb) + adjust, yb, reduction="none")
        loss = synthetic_weighted_loss(per_sample, synthetic, strategy.get("synthetic_weight", 1.0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seen += torch.bincount(yb, minlength=n)
        synthetic_seen += int(synthetic.sum())
        done += 1
        if done >= steps:
            break
    return {
        "seed": seed,
        "steps": done,
        "seconds": round(time.perf_counter() - t0, 2),
        "minority_share_seen": round(float(seen[minority].sum() / seen.sum()), 4),
        "synthetic_share_seen": round(synthetic_seen / float(seen.sum()), 4),
        "val": evaluate_clf(model, *val, n, minority),
        "test": evaluate_clf(model, *test, n, minority),
    }


# --- reporting ----------------------------------------------------------------------------
def tabulate(result: dict, strategies: dict, runs: dict) -> None:
    """result["strategies"] and ["paired_vs_baselines"] from the runs so far."""
    table = {}
    for key, s in strategies.items():
        if not runs.get(key):
            continue
        table[key] = {
            "label": s["label"],
            "augment_gan": "model" in s,
            "on_top_of": s.get("base"),
            "recipe": {k: s.get(k) for k in ("sampling", "aug", "loss", "share", "synthetic_weight")},
            "synthetic_counts": s.get("synthetic_counts"),
            "skipped_classes": s.get("skipped_classes"),
            "test": summarise(runs[key], "test"),
            "val": {"macro_f1": summarise(runs[key], "val")["macro_f1"]},
            "mean_seconds": round(statistics.fmean(r["seconds"] for r in runs[key]), 1),
            "minority_share_seen": round(statistics.fmean(r["minority_share_seen"] for r in runs[key]), 4),
            "synthetic_share_seen": round(statistics.fmean(r["synthetic_share_seen"] for r in runs[key]), 4),
            "runs": runs[key],
        }
    result["strategies"] = table
    baselines = tuple(dict.fromkeys([BASELINE, result.get("c_plus", BASELINE)]))
    complete = [k for k in table if table[k]["augment_gan"] and len(runs[k]) == len(runs[BASELINE])]
    result["paired_vs_baselines"] = paired_table(runs, complete, baselines)


def print_table(result: dict) -> None:
    b = result["budgets"]
    print()
    print(
        f"== {result['dataset']}: test split ({result['split']['test_per_class']}/class), {b['seeds']} seed(s), "
        f"classifier {b['classifier_steps']} steps, GAN {b['gan_steps']} steps"
    )
    print(
        f"{'':18s}{'strategy':62s} {'test macro-F1':>17s} {'balanced acc':>17s} {'minority recall':>17s} "
        f"{'val macro-F1':>17s}"
    )
    for key, row in result.get("strategies", {}).items():
        t = row["test"]
        print(
            f"{key:18s}{row['label']:62s} {fmt(t['macro_f1']):>17s} {fmt(t['balanced_accuracy']):>17s} "
            f"{fmt(t['minority_recall']):>17s} {fmt(row['val']['macro_f1']):>17s}"
        )
    if "c_plus" in result:
        print(f"(c+) = {result['c_plus']} (by validation macro-F1)")
    print("paired test-set differences (mean [95 % CI]; * = the interval excludes 0):")
    for cand, by_base in result.get("paired_vs_baselines", {}).items():
        for base, diffs in by_base.items():
            print(f"  {cand:18s} - {base:10s}: " + diff_cells(diffs))


# --- one dataset --------------------------------------------------------------------------
def run_dataset(dataset: str, a: argparse.Namespace, out_path: Path, log) -> dict:
    import torch

    spec = DATASETS[dataset]
    q = a.quick
    seeds = a.seeds or (2 if q else 5)
    gan_steps = a.gan_steps if a.gan_steps is not None else (40 if q else spec["gan_steps"])
    clf_steps = a.clf_steps if a.clf_steps is not None else (60 if q else 300)
    eval_samples = a.eval_samples if a.eval_samples is not None else (50 if q else 200)
    judge_steps = a.judge_steps if a.judge_steps is not None else (50 if q else None)
    start = time.perf_counter()

    tmp_ctx = tempfile.TemporaryDirectory(prefix=f"utility-check-{dataset}-") if a.keep is None else None
    work = Path(tmp_ctx.name) if tmp_ctx else a.keep / dataset
    work.mkdir(parents=True, exist_ok=True)
    train_dir = work / "train"
    if train_dir.exists() and any(train_dir.iterdir()):  # a kept dir of an earlier run: never mix splits
        raise SystemExit(f"{train_dir} is not empty; give --keep a new or empty folder")
    # judges and decoded images: not ~/.cache (a cache dir the caller set is kept); one per dataset's work dir
    os.environ["AUGMENT_GAN_CACHE_DIR"] = a.user_cache_dir or str(work / "cache")
    result: dict = {
        "benchmark": "utility_check",
        "dataset": dataset,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "quick": q,
        "classes": spec["classes"],
        "minority_classes": spec["minority"],
        "budgets": {
            "gan_steps": gan_steps,
            "classifier_steps": clf_steps,
            "classifier_batch": 64,
            "seeds": seeds,
            "classifier": f"conv{spec['clf_width']}-pool-conv{2 * spec['clf_width']}-pool-fc, Adam lr 1e-3, "
            f"{spec['clf_size']}x{spec['clf_size']} {'gray' if spec['channels'] == 1 else 'RGB'}",
        },
        "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "torch_threads": torch.get_num_threads()},
        "versions": _versions(),
        "timings_s": {},
    }

    def save() -> None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(result, indent=2, default=str) + "\n")

    try:
        t0 = time.perf_counter()
        if dataset == "digits":
            images, labels = digits_images()
            split = make_digits_split(labels, seed=a.split_seed)
            write_digits_split(train_dir, images, split["train"])
            held = {part: {d: images[split[part][d]] for d in range(10)} for part in ("val", "test")}
            result["split"] = {
                "source": "sklearn load_digits (8x8), converted as write_digits_folder",
                "seed": a.split_seed,
                "train_per_class": {str(d): len(split["train"][d]) for d in range(10)},
                "val_per_class": DIGITS_VAL,
                "test_per_class": DIGITS_TEST,
            }
        else:
            from sklearn.datasets import load_sample_images

            photos = list(load_sample_images().images)
            counts = RGB_QUICK_COUNTS if q else RGB_COUNTS
            crops = make_rgb_crops(photos, counts, seed=a.split_seed)
            write_rgb_split(train_dir, crops["train"])
            held = {part: {c: crops[part][c][0] for c in crops[part]} for part in ("val", "test")}
            result["split"] = {
                "source": "sklearn load_sample_images (china.jpg, flower.jpg), 64x64 crops",
                "seed": a.split_seed,
                "train_per_class": {RGB_CLASSES[c]: len(crops["train"][c][0]) for c in crops["train"]},
                "val_per_class": counts["val"],
                "test_per_class": counts["test"],
                "areas": {
                    "bands": "3 vertical bands per photo = the classes",
                    "strips": f"{N_STRIPS} horizontal strips per band, rows {strip_rows(photos[0].shape[0])}",
                    "strips_per_split": {k: list(v) for k, v in STRIPS.items()},
                },
            }
        val, test = as_tensor(spec, held["val"]), as_tensor(spec, held["test"])
        result["timings_s"]["write_split"] = round(time.perf_counter() - t0, 1)
        log(
            f"[{dataset}] split written: train {result['split']['train_per_class']}, "
            f"val {result['split']['val_per_class']}/class, test {result['split']['test_per_class']}/class"
        )
        save()

        log(f"[{dataset}] training the GAN for {gan_steps} steps (demo nets) ...")
        t0 = time.perf_counter()
        gan = train_gan(
            train_dir,
            work / "models",
            f"{dataset}-check",
            spec["minority"],
            gan_steps,
            eval_samples,
            judge_steps,
            a.gan_seed,
            log,
            quick=q,
        )
        result["timings_s"]["gan_total"] = round(time.perf_counter() - t0, 1)
        result["timings_s"]["gan_parts"] = {k: round(v, 1) for k, v in gan.pop("seconds").items()}
        model_dir, lenient_dir = gan.pop("model_dir"), gan.pop("lenient_model_dir")
        result["gan"] = gan
        log(
            f"[{dataset}] gate at step {gan['best_step']}: passed {gan['gate_passed_classes']}; "
            f"minority {gan['minority_passed_gate']}  ({result['timings_s']['gan_total']:.0f}s)"
        )
        for c in spec["minority"]:
            if not gan["gate"][c]["passed"]:
                log(f"  class {c} fails: {'; '.join(gan['gate'][c]['reasons'])}")
        save()

        classic = classic_keys(dataset)
        strategies: dict[str, dict] = {k: dict(CLASSIC[k]) for k in classic}
        runs: dict[str, list[dict]] = {}

        def run_all(keys: list[str], phase: str) -> None:
            t0 = time.perf_counter()
            for seed in range(seeds):  # seeds outermost: a partial run still covers every strategy
                for key in keys:
                    r = train_clf(spec, strategies[key], train_dir, clf_steps, seed, val, test)
                    runs.setdefault(key, []).append(r)
                    log(
                        f"  [{dataset}] {key:16s} seed {seed}: test macro-F1 {r['test']['macro_f1']:.4f}  bal-acc "
                        f"{r['test']['balanced_accuracy']:.4f}  minority recall {r['test']['minority_recall']:.4f}  "
                        f"val macro-F1 {r['val']['macro_f1']:.4f}  ({r['seconds']:.0f}s)"
                    )
                result["timings_s"][phase] = round(time.perf_counter() - t0, 1)
                result["seeds_completed"] = {**result.get("seeds_completed", {}), phase: seed + 1}
                tabulate(result, strategies, runs)
                save()  # partial results survive a kill

        # phase 1: the classic recipes; (c+) is picked among them on validation
        run_all(classic, "classic")
        result["c_plus"] = c_plus = pick_c_plus(runs, classic)
        log(f"[{dataset}] (c+) = {c_plus}: {CLASSIC[c_plus]['label']} (best validation macro-F1 of {classic})")

        # phase 2: augment-gan (BalancedDataset) on top of (c) and (c+), with each promoted model
        result["models_adding_nothing"] = {}
        for tag, mdir, note in (("", model_dir, "gated"), ("*", lenient_dir, "GATE BYPASSED")):
            if mdir is None:
                continue
            counts, skipped = synthetic_plan(train_dir, mdir)
            if not counts:  # every small class failed the gate: its strategies would be (c) and (c+) again
                result["models_adding_nothing"][note] = skipped
                log(f"[{dataset}] the {note} model adds no synthetic image (skipped: {skipped}); not run")
                continue
            for base in dict.fromkeys([BASELINE, c_plus]):
                for name, (share, weight) in BALANCED_VARIANTS.items():
                    strategies[f"{name}{tag}@{base}"] = dict(
                        label=f"BalancedDataset {share}, syn. weight {weight}, on ({base}) [{note}]",
                        model=mdir,
                        share=share,
                        synthetic_weight=weight,
                        base=base,
                        **{k: CLASSIC[base][k] for k in ("sampling", "aug", "loss")},
                    )
        gan_keys = [k for k in strategies if k not in classic]
        if not gan_keys:
            log(f"[{dataset}] no model promoted, not even with the gate bypassed: no augment-gan strategy to run")
        else:
            run_all(gan_keys, "augment_gan")
        result["timings_s"]["total"] = round(time.perf_counter() - start, 1)
    finally:
        try:
            result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        except OSError:
            pass
        save()
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    return result


def _versions() -> dict:
    import sklearn
    import torch
    import torchvision

    import augment_gan

    return {
        "augment_gan": getattr(augment_gan, "__version__", None),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data", choices=sorted(DATASETS), action="append", default=None, help="dataset (repeatable; default: both)"
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 40 GAN steps, 60 classifier steps, 2 seeds")
    p.add_argument("--seeds", type=int, default=None, help="classifier seeds (default 5; quick 2)")
    p.add_argument("--gan-steps", type=int, default=None, help="GAN steps (default: digits 1200, rgb 800; quick 40)")
    p.add_argument(
        "--clf-steps", type=int, default=None, help="classifier Adam steps at batch 64 (default 300; quick 60)"
    )
    p.add_argument("--eval-samples", type=int, default=None, help="GAN eval samples per class (default 200; quick 50)")
    p.add_argument(
        "--judge-steps",
        type=int,
        default=None,
        help="steps of the evaluation's domain judge (default: the library's 400; quick 50)",
    )
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--gan-seed", type=int, default=0)
    p.add_argument("--out-dir", type=Path, default=REPO / "benchmarks" / "results")
    p.add_argument("--keep", type=Path, default=None, help="work in DIR/<dataset> and keep it (default: a temp dir)")
    a = p.parse_args()
    a.user_cache_dir = os.environ.get("AUGMENT_GAN_CACHE_DIR")
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f}s] {msg}", flush=True)

    results = []
    for dataset in dict.fromkeys(a.data or ["digits", "rgb"]):
        out_path = a.out_dir / f"utility-{dataset}{'-quick' if a.quick else ''}.json"
        results.append((run_dataset(dataset, a, out_path, log), out_path))
    for result, out_path in results:
        print_table(result)
        print(f"wrote {out_path} ({result['timings_s'].get('total', float('nan')):.0f}s)")


if __name__ == "__main__":
    main()
