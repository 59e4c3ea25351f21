"""The downstream classifier: its input, its data (a recipe's sampling, augmentation and loss,
with or without synthetic samples), the small CNN, its training and its scores.

Every strategy of ``downstream.py`` trains the same CNN (conv(w)-pool-conv(2w)-pool-fc) with
the same budget: ``steps`` Adam steps (lr 1e-3) at batch 64. Seed k of every strategy starts
from the same initial weights (``torch.manual_seed(k)`` right before the net is built) and
draws from the same sampler seed, so strategies can be compared seed by seed (paired).

A strategy is a dict: ``sampling`` ("uniform" or "balanced": class-balanced oversampling),
``aug`` ("none", "affine", "affine+elastic", "flip+trivial"), ``loss`` ("ce", or "la": the
logit-adjusted loss of Menon et al. 2021, tau 1), and where its images come from: the
training folder, ``folder`` (a key of the folders given: a folder ``augment`` filled), or
``model`` (a promoted model dir: ``BalancedDataset`` with ``share``, ``synthetic_weight``
and ``select``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 64
LR = 1e-3


@dataclass(frozen=True)
class Input:
    """What the classifier sees of a dataset."""

    classes: tuple[str, ...]
    minority: tuple[str, ...]
    channels: int  # 1: gray, 3: RGB
    image_size: int  # the side of the folder's images
    clf_size: int  # the side the classifier sees (resized before augmenting)
    clf_width: int  # the first conv's channels

    @property
    def minority_idx(self) -> list[int]:
        return [self.classes.index(c) for c in self.minority]

    def describe(self) -> str:
        w, s = self.clf_width, self.clf_size
        return f"conv{w}-pool-conv{2 * w}-pool-fc, Adam lr {LR:g}, {s}x{s} {'gray' if self.channels == 1 else 'RGB'}"


def make_cnn(channels: int, size: int, n_classes: int, width: int = 32):
    """conv(width)-pool-conv(2 width)-pool-fc on (channels, size, size) inputs."""
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


def elastic_for(side: int) -> dict[str, float]:
    """Simard et al. 2003's elastic field on 28x28 MNIST (alpha 34, sigma 4), made geometrically
    the same at another side: sigma scales with the side, alpha with its square (torchvision
    displaces by alpha/2 times the blurred noise, whose amplitude falls as 1/sigma)."""
    return {"alpha": 34.0 * (side / 28) ** 2, "sigma": 4.0 * side / 28}


def transforms_for(inp: Input, aug: str):
    """PIL image (as ImageFolder loads it: RGB) -> the classifier's channels and size, the
    augmentation ``aug``, then a [-1, 1] tensor."""
    from torchvision import transforms as T

    steps: list[Any] = [T.Grayscale(1)] if inp.channels == 1 else []
    if inp.clf_size != inp.image_size:
        steps.append(T.Resize(inp.clf_size))  # bilinear with antialiasing
    if aug in ("affine", "affine+elastic"):
        steps.append(T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)))
    if aug == "affine+elastic":
        steps.append(T.ElasticTransform(**elastic_for(inp.clf_size)))
    elif aug == "flip+trivial":
        steps += [T.RandomHorizontalFlip(), T.TrivialAugmentWide()]
    elif aug not in ("none", "affine"):
        raise ValueError(f"unknown augmentation {aug!r}")
    steps += [T.ToTensor(), T.Normalize((0.5,) * inp.channels, (0.5,) * inp.channels)]
    return T.Compose(steps)


def as_tensor(inp: Input, images_by_class: dict[int, np.ndarray]):
    """Held-out uint8 images ((n, H, W) or (n, H, W, 3)) per class index through the
    un-augmented transform, so they are resized exactly as the training images are."""
    import torch
    from PIL import Image

    tf = transforms_for(inp, "none")
    xs, ys = [], []
    for c in sorted(images_by_class):
        for img in images_by_class[c]:
            xs.append(tf(Image.fromarray(img).convert("RGB")))
            ys.append(c)
    return torch.stack(xs), torch.tensor(ys, dtype=torch.long)


def natural_weights(balanced_weights, targets: list[int], real_counts: list[int]):
    """BalancedDataset's per-sample weights (equal mass per class) rescaled so that each class
    has the mass of its real images in the folder, as uniform sampling would give it; the
    synthetic share within a class is kept. How synthetic samples go on top of a recipe that
    samples uniformly (the logit-adjusted loss)."""
    import torch

    t = torch.tensor(targets)
    counts = torch.tensor(real_counts, dtype=torch.float64)
    return balanced_weights * (counts / counts.sum() * len(real_counts))[t]


def class_prior(weights, targets: list[int], n_classes: int):
    """The class distribution a sampler with these per-sample weights draws from."""
    import torch

    prior = torch.zeros(n_classes, dtype=torch.float64).index_add_(0, torch.tensor(targets), weights.double())
    return (prior / prior.sum()).float()


def build_data(inp: Input, strategy: dict, folders: dict[str, Path], n_samples: int, seed: int):
    """(dataset, sampler, class prior of the sampler) for one strategy. A BalancedDataset
    strategy gets its ``synthetic_counts`` and ``skipped_classes`` recorded in it."""
    import torch
    from torch.utils.data import WeightedRandomSampler
    from torchvision.datasets import ImageFolder

    n = len(inp.classes)
    folder = folders[strategy.get("folder", "train")]
    real = ImageFolder(str(folder), transform=transforms_for(inp, strategy["aug"]))
    if tuple(real.classes) != inp.classes:
        raise RuntimeError(f"{folder} has classes {real.classes}, expected {list(inp.classes)}")
    if strategy.get("model") is not None:
        from augment_gan import BalancedDataset

        # one onnxruntime thread: with num_workers=0 the default ("auto", all cores) fights torch for the cores
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


def evaluate_clf(model, x, y, n_classes: int, minority: list[int]) -> dict[str, Any]:
    """macro-F1, balanced accuracy, minority recall (mean over ``minority``) and every recall."""
    import torch
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    model.eval()
    with torch.inference_mode():
        pred = torch.cat([model(x[i : i + 1000]).argmax(1) for i in range(0, len(x), 1000)]).numpy()
    y = y.numpy()
    labels = list(range(n_classes))
    recalls = recall_score(y, pred, labels=labels, average=None, zero_division=0)
    return {
        "macro_f1": float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "minority_recall": float(np.mean([recalls[c] for c in minority])),
        "recall_per_class": [round(float(r), 4) for r in recalls],
    }


def train_clf(inp: Input, strategy: dict, folders: dict[str, Path], steps: int, seed: int, val, test) -> dict:
    """One classifier on the strategy's data and loss; its scores on ``val`` and ``test``.

    ``synthetic_weight`` weights synthetic samples in the loss (``synthetic_weighted_loss``)."""
    import torch
    from torch.nn import functional as F
    from torch.utils.data import DataLoader

    from augment_gan import synthetic_weighted_loss

    n, minority = len(inp.classes), inp.minority_idx
    torch.manual_seed(seed)
    model = make_cnn(inp.channels, inp.clf_size, n, inp.clf_width)
    ds, sampler, prior = build_data(inp, strategy, folders, steps * BATCH, seed)
    loader = DataLoader(ds, batch_size=BATCH, sampler=sampler, num_workers=0, drop_last=True)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
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
