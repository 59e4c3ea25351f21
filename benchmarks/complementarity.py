"""Complementarity: what a generator's samples add beyond classic augmentation, measured
before any classifier, on the validation side.

A synthetic image can only help a classifier if it reaches real images of its class that
affine/elastic variants of the class's few training images do not. Per replicate (one split
seed and one GAN seed: each split draws its own images and its own two minority digits of
MNIST t10k) and per minority class:

* R: ``n_r`` real validation images of the class. Features: the pre-logit layer (Euclidean)
  of an evaluation network used nowhere else — an MLP, not the classifier's CNN — trained
  class-balanced, without augmentation, on real images disjoint from R, from the oracle
  images and from the small classes' training images (an augmentation-invariant network
  would map classic variants onto their sources and flatter the GAN).
* cov(R; S): Naeem et al. 2020's coverage with k = 5 (``augment_gan.evaluation.metrics``):
  the share of R whose 5-NN ball in R holds a sample of S.
* A: ``n_a`` draws of the classic transform of the class's training images (each image
  equally often); A': ``n_extra`` more such draws; G: ``n_extra`` samples of the class from
  the run's EMA generator at a checkpoint, resized to the folder's size as ``augment``
  writes them (LANCZOS), without per-sample selection.
* **Complementarity** Δcov(X) = cov(R; A ∪ X) − cov(R; A ∪ A'), averaged over ``redraws``
  fresh draws of A and A': positive only if X reaches real images that more classic
  augmentation does not. Anchors on the same scale: ``oracle`` (``n_extra`` more real
  images: the ceiling), ``copies`` (the training images repeated: about 0 or below) and
  ``morph`` (a non-GAN control: ±1 px dilation or erosion, then the classic transform).
* Beside it, for G alone: coverage and density against R, the copy rate (the gate's
  per-sample ratio test against the class's training images) and class consistency (the
  evaluation network's vote) — at every checkpoint, so collapse and copying show when they
  start. ``saturation``: cov(R; A of half the size) against cov(R; A): A is near
  saturation when they agree.

Replicates are paired (the same splits for every generator); intervals are the library's
one paired t interval. Methodology: docs/methodology.md.

Run: ``python -m benchmarks.complementarity [--preset quick|screen|full] [--n-minor 5]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from . import dagan
from .common import (
    DEFAULT_MNIST,
    Clock,
    budget,
    command_line,
    default_out,
    parse_args,
    pick,
    provenance,
    save,
    shown_path,
    work_dir,
)
from .compare import effect
from .gan import NET
from .mnist import load_mnist, write_folder

PRESETS: dict[str, dict[str, Any]] = {
    # a smoke run: the code path end to end, figures meaningless
    "quick": dict(
        replicates=1, n_minor=5, n_major=40, n_r=30, n_a=60, n_extra=30, n_eval=40, redraws=2,
        gan_steps=10, every=10, eval_steps=60,
    ),
    # a screen: 3 replicates, enough to drop a candidate, never to claim one
    "screen": dict(
        replicates=3, n_minor=5, n_major=400, n_r=300, n_a=1200, n_extra=300, n_eval=180, redraws=5,
        gan_steps=2000, every=250, eval_steps=1500,
    ),
    # a claim: 6 replicates
    "full": dict(
        replicates=6, n_minor=5, n_major=400, n_r=300, n_a=1200, n_extra=300, n_eval=180, redraws=5,
        gan_steps=2000, every=250, eval_steps=1500,
    ),
}  # fmt: skip
CLASSIC = "affine+elastic"  # the classic transform of A, A' and the morph control (the strongest classic aug)
K = 5  # coverage's k (Naeem et al. 2020)
SIDE = 28  # MNIST's side: what the folder holds and what augment writes ("native")

# the generators compared: TrainConfig fields over the library's defaults, each written out in
# full so a name keeps its meaning when the defaults change (one entry = one candidate)
SMALL_DAUG = {
    "diffaugment": "translation,cutout",
    "diffaugment_below": 50,
}  # D's inputs augmented at small classes only: the library's default since issue 25
GENERATORS: dict[str, dict[str, Any]] = {
    # the defaults before issue 25 (no DiffAugment), the baseline every other is paired with;
    # called "default" until then (the renamed result files say so, and their commands as run)
    "no-daug": {"diffaugment": "none", "diffaugment_below": 0},
    "small-daug": SMALL_DAUG,
    "small-daug-lecam": {**SMALL_DAUG, "lecam": 0.1},
    "small-daug-sqrt-uniform": {**SMALL_DAUG, "class_balance": 0.5, "fake_labels": "uniform"},
    "small-daug-natural-uniform": {**SMALL_DAUG, "class_balance": 0.0, "fake_labels": "uniform"},
    "daug-all": {"diffaugment": "translation,cutout", "diffaugment_below": 0},
    # the long-tail regularisers (augment_gan/training/long_tail.py), each on top of small-daug
    "small-daug-gsr": {**SMALL_DAUG, "gsr": 0.5},
    "small-daug-noise": {**SMALL_DAUG, "class_noise": 0.1},
    "small-daug-noise-strong": {**SMALL_DAUG, "class_noise": 0.25},
    "small-daug-transition": {**SMALL_DAUG, "transition": 0.5},
    # the (c+) transforms (affine + elastic) as D's augmentation, on reals and fakes, at small classes
    "small-classic-daug": {"diffaugment": "affine,elastic", "diffaugment_below": 50},
    # GAN inversion: small-daug's runs, sampled around and between the fitted training images
    "small-daug-inversion": SMALL_DAUG,
    # not the library's GAN: an image-conditioned generator trained on the big classes' pairs
    # (benchmarks/dagan.py), sampled from the small class's training images
    "dagan": {"kind": "dagan"},
    "dagan-rot": {"kind": "dagan", "rotations": True},  # the big classes' rotations as classes too
}
IMAGE_CONDITIONED = {"dagan", "dagan-rot"}  # trained by benchmarks/dagan.py, not the library
# candidates that sample another generator's runs differently (no training of their own)
SAMPLED_FROM = {"small-daug-inversion": "small-daug"}
INVERSION = {"steps": 300, "lr": 0.05, "prior": 0.01, "noise": 0.3}  # fit, then sample around the fits
BASELINE = "no-daug"


# --- the split ----------------------------------------------------------------------------
def replicate_split(labels: np.ndarray, seed: int, p: dict[str, Any]) -> dict[str, Any]:
    """Disjoint per-class index sets for one replicate: ``train`` (``n_minor`` for the two
    minority digits this seed draws, ``n_major`` for the rest), ``val`` (R, ``n_r``),
    ``oracle`` (``n_extra``, minority digits only) and ``eval`` (the evaluation network's
    images: every image of the digit left, at least ``n_eval``; the committed results were made
    so, and the split is kept as it is so that they reproduce). MNIST t10k's smallest digit (5)
    has 892 images: 400 + 300 + 180 fit."""
    rng = np.random.default_rng(seed)
    minority = sorted(int(d) for d in rng.choice(10, size=2, replace=False))
    split: dict[str, Any] = {"minority": minority, "train": {}, "val": {}, "oracle": {}, "eval": {}}
    for d in range(10):
        idx = rng.permutation(np.flatnonzero(labels == d))
        n_train = p["n_minor"] if d in minority else p["n_major"]
        n_oracle = p["n_extra"] if d in minority else 0
        cuts = np.cumsum([n_train, p["n_r"], n_oracle, p["n_eval"]])
        if cuts[-1] > len(idx):
            raise SystemExit(f"digit {d} has {len(idx)} images; the split needs {cuts[-1]}")
        split["train"][d], split["val"][d], split["oracle"][d], split["eval"][d] = (
            part.tolist() for part in np.split(idx, cuts[:-1])[:4]
        )
    return split


# --- images -> features -------------------------------------------------------------------
def to_input(images: np.ndarray):
    """uint8 (n, 28, 28) -> float (n, 784) in [-1, 1], the evaluation network's input."""
    import torch

    return torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 127.5 - 1.0)


class EvalNet:
    """An MLP (784-256-128-10) trained class-balanced without augmentation; ``features`` is its
    pre-logit layer (128-d), ``vote`` its class."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, steps: int, seed: int) -> None:
        import torch
        from torch import nn

        torch.manual_seed(seed)
        self.body = nn.Sequential(nn.Linear(SIDE * SIDE, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU())
        self.head = nn.Linear(128, 10)
        params = [*self.body.parameters(), *self.head.parameters()]
        opt = torch.optim.Adam(params, lr=1e-3)
        x, y = to_input(images), torch.from_numpy(labels)
        weights = (1.0 / np.bincount(labels, minlength=10))[labels]
        g = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            batch = torch.multinomial(torch.from_numpy(weights), 128, replacement=True, generator=g)
            loss = nn.functional.cross_entropy(self.head(self.body(x[batch])), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.body.eval()
        self.head.eval()

    def features(self, images: np.ndarray):
        import torch

        with torch.no_grad():
            return self.body(to_input(images))

    def vote(self, images: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.head(self.features(images)).argmax(1).numpy()


def classic_draws(images: np.ndarray, n: int, rng: np.random.Generator, morph: bool = False) -> np.ndarray:
    """``n`` draws of the classic transform (``CLASSIC``) of ``images``, each image equally
    often (in a shuffled order); ``morph``: each first dilated or eroded by 1 px (3x3)."""
    import torch
    from PIL import Image, ImageFilter
    from torchvision import transforms as T

    from .classifier import elastic_for

    torch.manual_seed(int(rng.integers(2**31)))
    steps: list[Any] = [T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1))]
    if CLASSIC == "affine+elastic":
        steps.append(T.ElasticTransform(**elastic_for(SIDE)))
    tf = T.Compose(steps)
    order = rng.permutation(np.resize(np.arange(len(images)), n))
    out = np.empty((n, SIDE, SIDE), dtype=np.uint8)
    for j, i in enumerate(order):
        img = Image.fromarray(images[i])
        if morph:
            img = img.filter(ImageFilter.MaxFilter(3) if rng.random() < 0.5 else ImageFilter.MinFilter(3))
        out[j] = np.asarray(tf(img))
    return out


def as_written(x) -> np.ndarray:
    """G's (N, 1, side, side) output in [-1, 1] as uint8 (N, 28, 28), resized as augment
    writes it (LANCZOS)."""
    import torch
    from PIL import Image

    images = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0].numpy()
    if images.shape[1] == SIDE:
        return images
    return np.stack([np.asarray(Image.fromarray(im).resize((SIDE, SIDE), Image.Resampling.LANCZOS)) for im in images])


def generated(run_dir: Path, step: int, cls: int, n: int, seed: int) -> np.ndarray:
    """``n`` uint8 (28, 28) samples of class ``cls`` from the EMA generator at ``step``,
    resized from the generator's side as augment writes them (LANCZOS)."""
    import torch

    from augment_gan.run import Run

    generator, cfg, _ = Run.open(run_dir, progress=False).ema_generator(step)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, cfg.latent_dim, generator=g)
    with torch.no_grad():
        x = generator(z, torch.full((n,), cls, dtype=torch.long))
    return as_written(x)


def inverted(run_dir: Path, step: int, cls: int, n: int, seed: int, train: np.ndarray) -> np.ndarray:
    """GAN inversion (Beckham et al. 2022's "sample around the inverted points"): the EMA
    generator at ``step`` is fitted to the class's training images (one z per image and the
    class's embedding row; pixel MSE at G's side plus a small Gaussian prior on z, Adam), then
    ``n`` samples are drawn with z between two random fits (t ~ U(0, 1)) plus Gaussian noise.
    As :func:`generated`, uint8 (28, 28)."""
    import torch
    from PIL import Image

    from augment_gan.data.decode import resize_center_crop
    from augment_gan.run import Run

    generator, cfg, _ = Run.open(run_dir, progress=False).ema_generator(step)
    for param in generator.parameters():
        param.requires_grad_(False)
    target = (
        torch.stack(
            [
                torch.from_numpy(np.asarray(resize_center_crop(Image.fromarray(im), cfg.resolution), dtype=np.float32))
                for im in train
            ]
        )[:, None]
        / 127.5
        - 1.0
    )
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(len(train), cfg.latent_dim, generator=g).requires_grad_(True)
    embed = generator.embed.weight
    embed.requires_grad_(True)
    y = torch.full((len(train),), cls, dtype=torch.long)
    opt = torch.optim.Adam([z, embed], lr=INVERSION["lr"])
    for _ in range(INVERSION["steps"]):
        loss = (generator(z, y) - target).pow(2).mean() + INVERSION["prior"] * z.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()  # only the class's embedding row has a gradient
    with torch.no_grad():
        a, b = (torch.randint(len(train), (n,), generator=g) for _ in range(2))
        t = torch.rand(n, 1, generator=g)
        zs = (1 - t) * z[a] + t * z[b] + INVERSION["noise"] * torch.randn(n, cfg.latent_dim, generator=g)
        x = generator(zs, torch.full((n,), cls, dtype=torch.long))
    return as_written(x)


# --- the measures -------------------------------------------------------------------------
def coverage(real, fake) -> float:
    from augment_gan.evaluation.metrics import manifold_metrics

    return manifold_metrics(real, fake, dc_k=K)["coverage"]


def delta_cov(r_feat, a_feats: list, a2_feats: list, x_feats: list) -> float:
    """Δcov = cov(R; A ∪ X) - cov(R; A ∪ A'), averaged over the paired redraws."""
    import torch

    return float(
        np.mean(
            [
                coverage(r_feat, torch.cat([torch.as_tensor(a), torch.as_tensor(x)]))
                - coverage(r_feat, torch.cat([torch.as_tensor(a), torch.as_tensor(a2)]))
                for a, a2, x in zip(a_feats, a2_feats, x_feats)
            ]
        )
    )


def measure_class(
    net: EvalNet, cls: int, train: np.ndarray, r: np.ndarray, oracle: np.ndarray, p: dict[str, Any], seed: int
) -> dict[str, Any]:
    """The classic draws, the anchors and the saturation check of one class (no generator yet)."""
    rng = np.random.default_rng(seed)
    r_feat = net.features(r)
    a = [classic_draws(train, p["n_a"], rng) for _ in range(p["redraws"])]
    a2 = [classic_draws(train, p["n_extra"], rng) for _ in range(p["redraws"])]
    a_feats, a2_feats = [net.features(x) for x in a], [net.features(x) for x in a2]
    copies = np.resize(train, (p["n_extra"], SIDE, SIDE))
    morph = [net.features(classic_draws(train, p["n_extra"], rng, morph=True)) for _ in range(p["redraws"])]
    half = p["n_a"] // 2
    return {
        "r_feat": r_feat,
        "a_feats": a_feats,
        "a2_feats": a2_feats,
        "record": {
            "class": cls,
            "n_train": len(train),
            "cov_A": float(np.mean([coverage(r_feat, x) for x in a_feats])),
            "saturation": {
                "cov_A_half": float(np.mean([coverage(r_feat, x[:half]) for x in a_feats])),
                "cov_A": float(np.mean([coverage(r_feat, x) for x in a_feats])),
            },
            "anchors": {
                "oracle": delta_cov(r_feat, a_feats, a2_feats, [net.features(oracle)] * p["redraws"]),
                "copies": delta_cov(r_feat, a_feats, a2_feats, [net.features(copies)] * p["redraws"]),
                "morph": delta_cov(r_feat, a_feats, a2_feats, morph),
            },
        },
    }


def measure_generator(net: EvalNet, base: dict[str, Any], samples: np.ndarray, train: np.ndarray) -> dict[str, Any]:
    """Δcov of G and G's own coverage, density, copy rate and class consistency."""
    from augment_gan.evaluation.metrics import manifold_metrics
    from augment_gan.evaluation.metrics.memorisation import copy_ratio_check

    g_feat = net.features(samples)
    alone = manifold_metrics(base["r_feat"], g_feat, dc_k=K)
    cls = base["record"]["class"]
    return {
        "delta_cov": delta_cov(base["r_feat"], base["a_feats"], base["a2_feats"], [g_feat] * len(base["a_feats"])),
        "coverage": alone["coverage"],
        "density": alone["density"],
        "copy_rate": copy_ratio_check(net.features(train), g_feat)["copy_rate"] if len(train) >= 2 else None,
        "class_consistency": float(np.mean(net.vote(samples) == cls)),
    }


# --- one replicate ------------------------------------------------------------------------
def run_replicate(
    i: int,
    images: np.ndarray,
    labels: np.ndarray,
    p: dict[str, Any],
    work: Path,
    clock: Clock,
    grids: Path | None,
    generators: list[str],
    gate: bool = False,
    reuse: bool = False,
) -> dict[str, Any]:
    """One replicate: its split, evaluation net, anchors, and each generator's curves; with
    ``grids``, a PNG per generator: per minority class its training images then 10 classic
    draws, then a row of samples per checkpoint. With ``gate``, the run is evaluated and gated
    at every checkpoint as ``augment-gan run`` does, and each class's step as promote would
    pick it (eval/best.json's ``per_class``, from signals a user has) is recorded."""
    from augment_gan.contracts.run_dir import RunDir
    from augment_gan.evaluation.checkpoints import best_steps

    split_seed, gan_seed = 1000 + i, i
    split = replicate_split(labels, split_seed, p)
    minority = split["minority"]
    folder = work / f"rep{i}" / "train"
    write_folder(folder, images, split["train"])
    eval_idx = np.concatenate([split["eval"][d] for d in range(10)])
    net = EvalNet(images[eval_idx], labels[eval_idx], p["eval_steps"], seed=split_seed)
    val_idx = np.concatenate([split["val"][d] for d in range(10)])
    eval_acc = float(np.mean(net.vote(images[val_idx]) == labels[val_idx]))
    clock.log(f"replicate {i}: minority digits {minority}; evaluation net accuracy on R {eval_acc:.3f}")
    bases = {
        d: measure_class(
            net,
            d,
            images[split["train"][d]],
            images[split["val"][d]],
            images[split["oracle"][d]],
            p,
            seed=split_seed * 10 + d,
        )
        for d in minority
    }
    out: dict[str, Any] = {
        "replicate": i,
        "split_seed": split_seed,
        "gan_seed": gan_seed,
        "minority": minority,
        "eval_net_accuracy": eval_acc,
        "classes": {str(d): b["record"] for d, b in bases.items()},
        "generators": {},
    }
    for name in generators:
        cfg = train_config(name, p, gan_seed)
        t0 = clock.elapsed()
        run_dir = None
        if name in IMAGE_CONDITIONED:  # trained on the big classes' pairs, fed the small class's images
            big = np.concatenate([split["train"][d] for d in range(10) if d not in minority])
            where = work / f"rep{i}" / "dagan" / name
            fresh = not (where / f"step-{cfg.steps}.pt").is_file()
            dagan.train(images[big], labels[big], cfg, where)
            train_seconds = round(clock.elapsed() - t0, 1) if fresh else None
            steps = dagan.checkpoints(where)

            def draw(step: int, d: int, n: int, seed: int, where: Path = where) -> np.ndarray:
                return dagan.sample(where, step, images[split["train"][d]], n, seed)

        else:
            run_dir, train_seconds = library_run(name, cfg, i, folder, work, p, clock, gate, reuse)
            steps = [s for s, _ in RunDir(run_dir).checkpoints() if s != 0]

            def draw(step: int, d: int, n: int, seed: int, name: str = name, run_dir: Path = run_dir) -> np.ndarray:
                if name in SAMPLED_FROM:
                    return inverted(run_dir, step, d, n, seed, images[split["train"][d]])
                return generated(run_dir, step, d, n, seed)

        curves: dict[str, list[dict[str, Any]]] = {str(d): [] for d in minority}
        for step in steps:
            for d in minority:
                samples = draw(step, d, p["n_extra"], seed=gan_seed * 100 + d)
                m = measure_generator(net, bases[d], samples, images[split["train"][d]])
                curves[str(d)].append({"step": step, **m})
            last = {d: curves[str(d)][-1] for d in minority}
            clock.log(
                f"  {name} step {step}: "
                + "; ".join(f"{d}: Δcov {m['delta_cov']:+.3f} cov {m['coverage']:.2f}" for d, m in last.items())
            )
        out["generators"][name] = {"train": cfg.to_dict(), "train_seconds": train_seconds, "curves": curves}
        if gate and run_dir is not None:  # each class's step as promote picks it, and whether the gate passes it
            picked = best_steps(run_dir)
            reports = {r["step"]: r for r in RunDir(run_dir).read_eval_reports()}
            out["generators"][name]["gate"] = {
                str(d): {
                    "step": picked[str(d)],
                    "passed_at": [s for s in sorted(reports) if reports[s]["gate"]["per_class"][str(d)]["passed"]],
                }
                for d in minority
            }
        if grids is not None:
            steps = [pt["step"] for pt in curves[str(minority[0])]]
            rows = []
            for d in minority:
                train = images[split["train"][d]]
                rows.append(np.concatenate([train, classic_draws(train, 10, np.random.default_rng(d))]))
                rows += [draw(s, d, 15, seed=gan_seed * 100 + d) for s in steps]
            grids.mkdir(parents=True, exist_ok=True)
            path = grids / f"{name}-rep{i}.png"
            save_rows(rows, path)
            out["generators"][name]["grid"] = shown_path(path)
    return out


def library_run(
    name: str, cfg: Any, i: int, folder: Path, work: Path, p: dict[str, Any], clock: Clock, gate: bool, reuse: bool
) -> tuple[Path, float | None]:
    """The run dir of generator ``name`` in replicate ``i`` (trained by the library's train
    stage, or a finished one reused) and its training seconds (None: reused)."""
    from augment_gan.contracts.run_dir import RunDir
    from augment_gan.pipeline import TrainEval
    from augment_gan.pipeline import train as train_stage

    trained_as = SAMPLED_FROM.get(name, name)
    runs = work / f"rep{i}" / "models" / f"{trained_as}-rep{i}" / "runs"
    done = (
        [r for r in sorted(runs.iterdir()) if RunDir(r).checkpoint(p["gan_steps"]).is_file()]
        if (reuse or name in SAMPLED_FROM) and runs.is_dir()
        else []
    )
    if done:  # --reuse: a run a killed benchmark finished (its work dir kept)
        clock.log(f"  {name}: reusing {done[-1]}")
        return done[-1], None
    t0 = clock.elapsed()
    run_dir = train_stage(
        folder,
        f"{trained_as}-rep{i}",
        models_dir=work / f"rep{i}" / "models",
        net=NET,
        train=cfg,
        evaluation=TrainEval(every=p["every"]) if gate else TrainEval(),
    ).run_dir
    return run_dir, round(clock.elapsed() - t0, 1)


def save_rows(rows: list[np.ndarray], path: Path, pad: int = 2) -> None:
    """One PNG, a row of images per array (left-aligned, black padding)."""
    from PIL import Image

    width = max(len(r) for r in rows) * (SIDE + pad) + pad
    sheet = np.zeros((len(rows) * (SIDE + pad) + pad, width), dtype=np.uint8)
    for y, row in enumerate(rows):
        for x, img in enumerate(row):
            top, left = pad + y * (SIDE + pad), pad + x * (SIDE + pad)
            sheet[top : top + SIDE, left : left + SIDE] = img
    Image.fromarray(sheet).save(path)


def train_config(name: str, p: dict[str, Any], gan_seed: int):
    """The TrainConfig (a DaganConfig for ``IMAGE_CONDITIONED``) a generator trains with in a replicate."""
    from augment_gan.run import TrainConfig

    if name in IMAGE_CONDITIONED:
        own = {k: v for k, v in GENERATORS[name].items() if k != "kind"}
        return dagan.DaganConfig(steps=p["gan_steps"], checkpoint_every=p["every"], seed=gan_seed, **own)

    return TrainConfig(
        **{**GENERATORS[name], "steps": p["gan_steps"], "checkpoint_every": p["every"], "seed": gan_seed}
    )


# --- carrying earlier runs over -------------------------------------------------------------
def carried_replicates(
    files: list[Path], p: dict[str, Any], generators: list[str], gate: bool
) -> dict[int, dict[str, Any]]:
    """Replicate index -> the replicate as earlier results of the same budget (every key but
    ``replicates``) and the same ``--gate`` measured it, with the generators asked for; one
    line of error on a different budget."""
    carried: dict[int, dict[str, Any]] = {}
    same = {k: v for k, v in p.items() if k != "replicates"}
    for f in files:
        old = json.loads(f.read_text())
        theirs = {k: v for k, v in old["budget"].items() if k != "replicates"}
        if theirs != same or old.get("gate", False) != gate:
            raise SystemExit(f"{f}: measured with another budget or --gate ({theirs}), not {same}")
        for rep in old["replicates"]:
            if rep["replicate"] >= p["replicates"]:
                continue
            kept = {g: v for g, v in rep["generators"].items() if g in generators}
            for g, v in kept.items():  # the same name must have trained the same way
                now = train_config(g, p, rep["gan_seed"])
                if type(now).from_dict(v["train"]) != now:
                    raise SystemExit(f"{f}: replicate {rep['replicate']}'s {g} trained with other settings")
            if kept:
                carried[rep["replicate"]] = merge_replicate(
                    carried.get(rep["replicate"], {"generators": {}}), {**rep, "generators": kept}
                )
    return carried


def same_replicate(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a carried replicate has today's split, minority digits and anchors (none carried: yes)."""
    return old.get("classes") is None or all(
        old[k] == new[k] for k in ("split_seed", "gan_seed", "minority", "classes")
    )


def merge_replicate(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old``'s generators joined with ``new``'s; the split, minority digits and anchors must
    be the same (a replicate is deterministic: a difference means the code changed)."""
    if old.get("classes") is not None:
        for key in ("split_seed", "gan_seed", "minority", "classes"):
            if old[key] != new[key]:
                raise SystemExit(f"replicate {new['replicate']}: {key} differs from the carried result")
    return {**new, "generators": {**old["generators"], **new["generators"]}}


# --- summary ------------------------------------------------------------------------------
def seconds(replicates: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """Training seconds of a generator over the replicates that trained it (None: all reused)."""
    from augment_gan.evaluation.utility import paired

    secs = [t for rep in replicates if (t := rep["generators"][name].get("train_seconds")) is not None]
    return paired(secs) if secs else None


COLLAPSE_WINDOW, COLLAPSE_KEEP = (
    3,
    0.8,
)  # issue 25 item 3: the running mean of 3 checkpoints keeps >= 0.8 x its earlier max


def retained(coverage: list[float], window: int = COLLAPSE_WINDOW) -> float:
    """The lowest ratio, over checkpoints, of the coverage's running mean (``window``
    checkpoints) to the highest running mean before or at it: 1.0 for a curve that never
    falls; below ``COLLAPSE_KEEP`` is a collapse."""
    means = [float(np.mean(coverage[max(0, t - window + 1) : t + 1])) for t in range(len(coverage))]
    peak, worst = 0.0, 1.0
    for m in means:
        peak = max(peak, m)
        worst = min(worst, m / peak if peak else 1.0)
    return worst


def plot_curves(result: dict[str, Any], path: Path) -> None:
    """Per replicate and minority class: coverage of R by G over the checkpoints, its running
    mean, the 0.8 x earlier-maximum line, and (with --gate) the step promote picks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(rep, c) for rep in result["replicates"] for c in rep["classes"]]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.2), dpi=100, squeeze=False)
    for ax, (rep, c) in zip(axes[0], panels):
        for name, gen in rep["generators"].items():
            pts = gen["curves"][c]
            steps, cov = [pt["step"] for pt in pts], [pt["coverage"] for pt in pts]
            run = [float(np.mean(cov[max(0, t - COLLAPSE_WINDOW + 1) : t + 1])) for t in range(len(cov))]
            line = ax.plot(steps, cov, marker=".", alpha=0.5, label=f"{name}: cov(R; G)")[0]
            ax.plot(steps, run, color=line.get_color(), label=f"{name}: running mean of {COLLAPSE_WINDOW}")
            ax.plot(steps, [COLLAPSE_KEEP * max(run[: t + 1]) for t in range(len(run))], color=line.get_color(),
                    ls=":", lw=1, label=f"{COLLAPSE_KEEP} x its earlier max")  # fmt: skip
            if "gate" in gen:
                s = gen["gate"][c]["step"]
                ax.axvline(s, color=line.get_color(), ls="--", lw=1, label=f"{name}: step promote picks")
        ax.set_title(f"replicate {rep['replicate']}, digit {c}", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("coverage of R (validation)")
    axes[0][-1].legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def summarise(replicates: list[dict[str, Any]], generators: list[str], baseline: str = BASELINE) -> dict[str, Any]:
    """Per generator: Δcov at the last step, per (replicate, class) pair, with its paired 95 %
    interval; the same paired against each anchor and against the ``baseline`` generator (at
    the last step and at each one's best step); training seconds."""
    from augment_gan.evaluation.utility import paired

    rows = [(rep, c) for rep in replicates for c in rep["classes"]]
    out: dict[str, Any] = {
        "n": len(rows),
        "anchors": {
            a: paired([rep["classes"][c]["anchors"][a] for rep, c in rows]) for a in ("oracle", "copies", "morph")
        },
    }

    def last_and_best(name: str) -> tuple[list[float], list[float]]:
        curves = [rep["generators"][name]["curves"][c] for rep, c in rows]
        return [cv[-1]["delta_cov"] for cv in curves], [max(pt["delta_cov"] for pt in cv) for cv in curves]

    for name in generators:
        last = [rep["generators"][name]["curves"][c][-1] for rep, c in rows]
        best = [max(p["delta_cov"] for p in rep["generators"][name]["curves"][c]) for rep, c in rows]
        g = paired([m["delta_cov"] for m in last])
        out[name] = {
            "train_seconds": seconds(replicates, name),
            "delta_cov_last": g,
            "effect": effect(g),
            "delta_cov_best_step": paired(best),
            "minus_morph": paired(
                [m["delta_cov"] - rep["classes"][c]["anchors"]["morph"] for m, (rep, c) in zip(last, rows)]
            ),
            "share_of_oracle": paired(
                [m["delta_cov"] / rep["classes"][c]["anchors"]["oracle"] for m, (rep, c) in zip(last, rows)]
            ),
            "coverage_last": paired([m["coverage"] for m in last]),
            "copy_rate_last": paired([m["copy_rate"] for m in last if m["copy_rate"] is not None]),
            "class_consistency_last": paired([m["class_consistency"] for m in last]),
            "retained": [
                round(retained([pt["coverage"] for pt in rep["generators"][name]["curves"][c]]), 3) for rep, c in rows
            ],
        }
        out[name]["collapse_free"] = all(r >= COLLAPSE_KEEP for r in out[name]["retained"])
        picked = [rep["generators"][name].get("gate", {}).get(c) for rep, c in rows]
        if all(picked):  # --gate: the step promote picks, against the best step by coverage
            at = [
                next(pt for pt in rep["generators"][name]["curves"][c] if pt["step"] == g["step"])
                for (rep, c), g in zip(rows, picked)
            ]
            peak = [max(pt["coverage"] for pt in rep["generators"][name]["curves"][c]) for rep, c in rows]
            out[name]["picked_step"] = {
                "steps": [g["step"] for g in picked],
                "passes_somewhere": sum(bool(g["passed_at"]) for g in picked),
                "coverage_share_of_best": paired([a["coverage"] / m if m else 1.0 for a, m in zip(at, peak)]),
                "delta_cov": paired([a["delta_cov"] for a in at]),
            }
        if name != baseline and baseline in generators:
            (own_last, own_best), (base_last, base_best) = last_and_best(name), last_and_best(baseline)
            vs_last = paired([a - b for a, b in zip(own_last, base_last)])
            out[name]["minus_baseline"] = {**vs_last, "effect": effect(vs_last)}
            out[name]["minus_baseline_best_step"] = paired([a - b for a, b in zip(own_best, base_best)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    parser.add_argument("--n-minor", type=int, default=None, help="training images of each minority class")
    parser.add_argument("--replicates", type=int, default=None)
    parser.add_argument(
        "--first", type=int, default=0, help="start at this replicate (a second process takes the later ones)"
    )
    parser.add_argument("--gan-steps", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the work dir (runs, folders) here")
    parser.add_argument(
        "--gate",
        action="store_true",
        help="evaluate and gate every checkpoint as `run` does, and record each class's step as promote picks it",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep DIR: measure the runs a killed benchmark finished in DIR instead of training them again",
    )
    parser.add_argument(
        "--generators", default=",".join(GENERATORS), help=f"comma-separated, of {', '.join(GENERATORS)}"
    )
    parser.add_argument(
        "--baseline",
        default=BASELINE,
        help=f"the generator every other is paired with (default {BASELINE}; small-daug, today's default, for "
        "the long-tail candidates)",
    )
    parser.add_argument(
        "--extend",
        type=Path,
        nargs="+",
        default=[],
        help="earlier results of the same budget: their (replicate, generator) runs are carried over, "
        "only the missing ones are trained (replicates are deterministic: their anchors must agree)",
    )
    args = parse_args(parser, PRESETS, default="screen")
    p = budget(args, PRESETS[args.preset])
    generators = pick(args.generators, GENERATORS, "generator")
    out = args.out or default_out(f"complementarity-{p['n_minor']}", args.preset)
    clock = Clock()
    images, labels = load_mnist(args.mnist)
    result: dict[str, Any] = {
        "benchmark": "complementarity",
        "command": command_line(),
        "preset": args.preset,
        "budget": p,
        "classic": CLASSIC,
        "k": K,
        "net": NET,
        "generators": {name: GENERATORS[name] for name in generators},
        "gate": args.gate,
        "baseline": args.baseline,
        **provenance(),
    }
    carried = carried_replicates(args.extend, p, generators, args.gate)
    with work_dir(args.keep, "complementarity-") as work:
        grids = None if args.quick else out.with_suffix("")
        result["replicates"] = []
        for i in range(args.first, p["replicates"]):
            rep = carried.get(i, {"generators": {}})
            missing = [g for g in generators if g not in rep["generators"]]
            if missing:
                new = run_replicate(i, images, labels, p, work, clock, grids, missing, args.gate, args.reuse)
                if not same_replicate(rep, new):  # other classic draws: the carried Δcov would not pair with today's
                    redo = [g for g in generators if g not in missing]
                    clock.log(f"replicate {i}: the carried anchors differ from today's; {', '.join(redo)} anew")
                    rep = merge_replicate(
                        run_replicate(i, images, labels, p, work, clock, grids, redo, args.gate, args.reuse), new
                    )
                else:
                    rep = merge_replicate(rep, new)
            else:
                clock.log(f"replicate {i}: every generator carried over")
            result["replicates"].append({**rep, "generators": {g: rep["generators"][g] for g in generators}})
    if args.extend:
        result["extends"] = [shown_path(f) for f in args.extend]
    result["summary"] = summarise(result["replicates"], generators, args.baseline)
    result["seconds"] = round(clock.elapsed(), 1)
    s = result["summary"]
    for name in generators:
        g = s[name]["delta_cov_last"]
        vs = s[name].get("minus_baseline")
        clock.log(
            f"{name}: Δcov {g['mean']:+.3f} {g['ci95']} ({s[name]['effect']}, n={g['n']})"
            + (f"; minus {args.baseline} {vs['mean']:+.3f} {vs['ci95']} ({vs['effect']})" if vs else "")
        )
    clock.log("anchors: " + ", ".join(f"{a} {v['mean']:+.3f}" for a, v in s["anchors"].items()))
    if grids is not None:  # the coverage curves and the collapse check, as a picture
        plot_curves(result, grids / "curves.png")
        result["curves_plot"] = shown_path(grids / "curves.png")
    save(out, result)


if __name__ == "__main__":
    main()
