"""The downstream classifier: its input, its data (a recipe's sampling, augmentation and loss,
with or without synthetic samples), the small CNN, its training and its scores.

Every strategy of ``downstream.py`` trains the same CNN (conv(w)-pool-conv(2w)-pool-fc) with
the same budget: ``steps`` Adam steps (lr 1e-3) at batch 64. Seed k of every strategy starts
from the same initial weights (``torch.manual_seed(k)`` right before the net is built) and
draws from the same sampler seed, so strategies can be compared seed by seed (paired).

A strategy is a dict: ``sampling`` ("uniform" or "balanced": class-balanced oversampling),
``aug`` ("none", "affine", "affine+elastic", "flip+trivial"), ``loss`` ("ce"; "la": the
logit-adjusted loss of Menon et al. 2021, tau 1; "ldam-drw": Cao et al. 2019's label-
distribution-aware margin loss on a cosine head, s 30, largest margin 0.5, with deferred
re-weighting by effective number, beta 0.9999, from 80 % of the steps), and where its images
come from: the training folder, ``folder`` (a key of the folders given: a folder ``augment``
filled), or ``model`` (a promoted model dir: ``BalancedDataset`` with ``share``,
``synthetic_weight`` and ``select``). ``stand_in: True`` with a ``model`` is its A' arm: the
same dataset, counts, weights and loss, each synthetic sample replaced by one of its class's
training images (each equally often) through the same augmentation, so only what the GAN
adds differs. ``refit_steps`` (``train_clf``) re-fits the last layer on class-balanced real
images with the features frozen (Kang et al. 2020's cRT) and scores both nets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 64
LR = 1e-3
LDAM_S, LDAM_MAX_MARGIN = 30.0, 0.5  # Cao et al. 2019's scale and largest margin
DRW_BETA, DRW_FROM = 0.9999, 0.8  # deferred re-weighting: effective-number weights from 80 % of the steps
LOSSES = ("ce", "la", "ldam-drw")


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


def cosine_head(features: int, n_classes: int):
    """A bias-free linear layer on L2-normalised features and weights: logits in [-1, 1]
    (LDAM's "normed linear" head)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class CosineHead(nn.Module):
        scale = LDAM_S  # what its logits are multiplied by in a loss

        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.empty(n_classes, features))
            self.reset_parameters()

        def reset_parameters(self) -> None:
            nn.init.uniform_(self.weight, -1, 1)

        def forward(self, x):
            return F.normalize(x, dim=1) @ F.normalize(self.weight, dim=1).t()

    return CosineHead()


def make_cnn(channels: int, size: int, n_classes: int, width: int = 32, cosine: bool = False):
    """conv(width)-pool-conv(2 width)-pool-fc on (channels, size, size) inputs; ``cosine``: a
    cosine head instead of the last linear layer."""
    from torch import nn

    features = 2 * width * (size // 4) ** 2
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        cosine_head(features, n_classes) if cosine else nn.Linear(features, n_classes),
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


class ClassicStandIn:
    """A' : a ``BalancedDataset`` whose synthetic samples are replaced by the class's training
    images (synthetic slot j of a class with n training images is image j mod n), through the
    same transform and still marked synthetic: the same counts, weights and loss, no GAN."""

    def __init__(self, ds) -> None:
        self.ds, self.real = ds, ds.real
        self.targets = ds.targets
        real_targets = list(ds.real.targets)
        self._real_of = {c: [i for i, t in enumerate(real_targets) if t == c] for c in set(real_targets)}
        self._first = {}  # class -> the dataset index of its first synthetic sample
        for i in range(len(real_targets), len(ds)):
            self._first.setdefault(ds.targets[i], i)

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, index: int):
        if not self.ds.is_synthetic(index):
            return self.ds[index]
        c = self.ds.targets[index]
        own = self._real_of[c]
        image, target = self.ds.real[own[(index - self._first[c]) % len(own)]]
        return (image, target, True) if self.ds.mark_synthetic else (image, target)


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
        if strategy.get("stand_in"):
            ds = ClassicStandIn(ds)
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


def ldam_margins(prior, n_images: int):
    """Cao et al. 2019's per-class margins, proportional to n_j^(-1/4) with the largest
    ``LDAM_MAX_MARGIN``; n_j = the sampler's class prior times ``n_images``."""
    counts = (prior.double() * n_images).clamp_min(1.0)
    m = counts.pow(-0.25)
    return (m * (LDAM_MAX_MARGIN / m.max())).float()


def drw_weights(prior, n_images: int):
    """Deferred re-weighting's class weights: 1 / effective number (1 - beta^n) / (1 - beta),
    normalised to sum to the number of classes."""
    counts = (prior.double() * n_images).clamp_min(1.0)
    w = (1.0 - DRW_BETA) / (1.0 - DRW_BETA**counts)
    return (w / w.sum() * len(w)).float()


def loss_fn(strategy: dict, prior, n_images: int, steps: int):
    """(logits, targets, step) -> per-sample loss for the strategy's ``loss``."""
    from torch.nn import functional as F

    kind = strategy["loss"]
    if kind == "ce":
        return lambda z, y, step: F.cross_entropy(z, y, reduction="none")
    if kind == "la":
        adjust = prior.clamp_min(1e-12).log()
        return lambda z, y, step: F.cross_entropy(z + adjust, y, reduction="none")
    if kind == "ldam-drw":
        margins, weights, drw_from = ldam_margins(prior, n_images), drw_weights(prior, n_images), int(DRW_FROM * steps)

        def ldam(z, y, step):
            z = z - margins[y].unsqueeze(1) * F.one_hot(y, z.shape[1])
            w = weights if step >= drw_from else None
            return F.cross_entropy(LDAM_S * z, y, weight=w, reduction="none")

        return ldam
    raise ValueError(f"unknown loss {kind!r}; one of {', '.join(LOSSES)}")


def refit_head(model, inp: Input, strategy: dict, folder: Path, steps: int, seed: int) -> None:
    """cRT (Kang et al. 2020): the last layer re-initialised and trained ``steps`` Adam steps on
    the folder's real images, class-balanced, with the strategy's augmentation and plain cross
    entropy (times LDAM's scale on a cosine head); the features stay frozen."""
    import torch
    from torch.nn import functional as F
    from torch.utils.data import DataLoader

    real_only = {"sampling": "balanced", "aug": strategy["aug"]}
    ds, sampler, _ = build_data(inp, real_only, {"train": folder}, steps * BATCH, seed + 50_000)
    torch.manual_seed(seed + 50_000)
    head = model[-1]
    head.reset_parameters()
    scale = getattr(head, "scale", 1.0)
    features = model[:-1]
    features.eval()
    opt = torch.optim.Adam(head.parameters(), lr=LR)
    done = 0
    for batch in DataLoader(ds, batch_size=BATCH, sampler=sampler, num_workers=0, drop_last=True):
        with torch.no_grad():
            f = features(batch[0])
        loss = F.cross_entropy(scale * head(f), batch[1])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        done += 1
        if done >= steps:
            break


def train_clf(
    inp: Input, strategy: dict, folders: dict[str, Path], steps: int, seed: int, val, test, refit_steps: int = 0
) -> dict:
    """One classifier on the strategy's data and loss; its scores on ``val`` and ``test``, and
    with ``refit_steps`` also ``refit``: the scores after :func:`refit_head` on the training
    folder's real images.

    ``synthetic_weight`` weights synthetic samples in the loss (``synthetic_weighted_loss``)."""
    import torch
    from torch.utils.data import DataLoader

    from augment_gan import synthetic_weighted_loss

    n, minority = len(inp.classes), inp.minority_idx
    torch.manual_seed(seed)
    model = make_cnn(inp.channels, inp.clf_size, n, inp.clf_width, cosine=strategy["loss"] == "ldam-drw")
    ds, sampler, prior = build_data(inp, strategy, folders, steps * BATCH, seed)
    n_images = len(ds.real.targets) if hasattr(ds, "real") else len(ds.targets)  # the folder's real images
    criterion = loss_fn(strategy, prior, n_images, steps)
    loader = DataLoader(ds, batch_size=BATCH, sampler=sampler, num_workers=0, drop_last=True)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    t0 = time.perf_counter()
    seen = torch.zeros(n, dtype=torch.long)
    synthetic_seen = done = 0
    model.train()
    for batch in loader:
        xb, yb = batch[0], batch[1]
        synthetic = batch[2] if len(batch) > 2 else torch.zeros(len(yb), dtype=torch.bool)
        per_sample = criterion(model(xb), yb, done)
        loss = synthetic_weighted_loss(per_sample, synthetic, strategy.get("synthetic_weight", 1.0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seen += torch.bincount(yb, minlength=n)
        synthetic_seen += int(synthetic.sum())
        done += 1
        if done >= steps:
            break
    out = {
        "seed": seed,
        "steps": done,
        "seconds": round(time.perf_counter() - t0, 2),
        "minority_share_seen": round(float(seen[minority].sum() / seen.sum()), 4),
        "synthetic_share_seen": round(synthetic_seen / float(seen.sum()), 4),
        "val": evaluate_clf(model, *val, n, minority),
        "test": evaluate_clf(model, *test, n, minority),
    }
    if refit_steps:
        t0 = time.perf_counter()
        refit_head(model, inp, strategy, folders["train"], refit_steps, seed)
        out["refit"] = {
            "steps": refit_steps,
            "seconds": round(time.perf_counter() - t0, 2),
            "val": evaluate_clf(model, *val, n, minority),
            "test": evaluate_clf(model, *test, n, minority),
        }
    return out
