"""The gate's utility check: do a class's (selected) synthetic samples make a classifier better
on real images the GAN never saw?

A bounded version of the downstream benchmark (``benchmarks/downstream.py``), run by
``promote`` on the classes the gate passed. Per seed, two small CNNs (the domain judge's
architecture) are trained from the same initial weights and batch stream:

- **without**: the GAN's training images, class-balanced, random shifts (classic
  oversampling + augmentation);
- **with**: the same, plus each passed class below the largest class gets
  ``ceil(share * largest count)`` synthetic samples, drawn as ``share`` of that class's
  sampling mass (what ``BalancedDataset`` does by default).

Both are scored on the run's **held-out** images only: they were never given to the GAN
(``split.json``), so no sample can look good by copying them. A class fails when its recall
on those images drops significantly (the paired 95 % t interval over seeds lies below 0):
F1, not recall, because samples of c that look like d pull d's images into c -- c's
precision drops (and d's recall), while c's own recall may not move;
otherwise the change is reported with its interval, and the number of held-out images it
rests on. With 3 held-out images, recall moves in steps of 1/3: the check catches only
consistent, large harm there, and says "tie" otherwise.

Cost: ``2 x seeds`` trainings of ``steps`` Adam steps; the defaults take about a minute on
two CPU cores for 10 classes at 32 px.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from augment_gan.evaluation.domain import JudgeConfig, train_judge

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}  # t(0.975, df)


def t95(df: int) -> float:
    """t(0.975, df): the table to 3 decimals (what the gate's reports were made with), scipy beyond it."""
    if df in T95:
        return T95[df]
    from scipy import stats

    return float(stats.t.ppf(0.975, df))


@dataclass(frozen=True)
class UtilityConfig:
    seeds: int = 3
    steps: int = 300
    batch_size: int = 64
    width: int = 16
    share: float = 0.25  # of a small class's sampling mass that is synthetic (BalancedDataset's default)


def paired(differences: list[float]) -> dict[str, Any]:
    """Mean paired difference, its 95 % t interval and whether the interval excludes 0.

    The one paired interval of the project: the utility check here and the downstream
    benchmark (``benchmarks/compare.py``) both use it."""
    n = len(differences)
    mean = statistics.fmean(differences)
    if n < 2:
        return {"mean": mean, "ci95": None, "n": n, "significant": False}
    half = t95(n - 1) * statistics.stdev(differences) / math.sqrt(n)
    return {
        "mean": mean,
        "ci95": [mean - half, mean + half],
        "n": n,
        "significant": bool(mean - half > 0 or mean + half < 0),
    }


def _scores(model: torch.nn.Module, images: torch.Tensor, labels: np.ndarray, num_classes: int) -> dict[str, Any]:
    predicted = model.predict(images)
    recall, f1 = [], []
    for c in range(num_classes):
        true, pred = labels == c, predicted == c
        tp = float((true & pred).sum())
        r = tp / true.sum() if true.any() else float("nan")
        p = tp / pred.sum() if pred.any() else 0.0
        recall.append(r)
        f1.append(2 * p * r / (p + r) if (p + r) > 0 and not math.isnan(r) else 0.0)
    present = [f for c, f in enumerate(f1) if (labels == c).any()]
    return {"recall": recall, "f1": f1, "macro_f1": statistics.fmean(present) if present else float("nan")}


def utility_check(
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    held_images: torch.Tensor,
    held_labels: torch.Tensor,
    synthetic: dict[int, torch.Tensor],
    num_classes: int,
    cfg: UtilityConfig = UtilityConfig(),
) -> dict[str, Any]:
    """The paired comparison. ``synthetic[c]``: uint8 (N, C, H, W) samples of class c (only the
    classes to check). Returns per class (index) ``f1_change`` and ``recall_change`` (paired),
    ``effect`` (helps / hurts / tie by the F1 change; untested), ``n_held_out``; and
    ``macro_f1_change`` overall."""
    labels = train_labels.long()
    counts = torch.bincount(labels, minlength=num_classes).double()
    images = torch.cat([train_images, *synthetic.values()]) if synthetic else train_images
    all_labels = torch.cat([labels, *[torch.full((len(v),), c) for c, v in synthetic.items()]])
    weights = torch.zeros(len(all_labels), dtype=torch.float64)
    weights[: len(labels)] = 1.0 / counts.clamp(min=1)[labels]
    start = len(labels)
    for c, samples in synthetic.items():
        weights[start : start + len(samples)] = cfg.share / len(samples)
        weights[: len(labels)][labels == c] *= 1.0 - cfg.share
        start += len(samples)
    y = held_labels.numpy()
    runs = []
    for seed in range(cfg.seeds):
        judge_cfg = JudgeConfig(steps=cfg.steps, batch_size=cfg.batch_size, width=cfg.width, seed=1000 + seed)
        without = train_judge(train_images, labels, num_classes, judge_cfg)
        with_ = train_judge(images, all_labels, num_classes, judge_cfg, weights=weights)
        runs.append((_scores(without, held_images, y, num_classes), _scores(with_, held_images, y, num_classes)))
    per_class = {}
    for c in range(num_classes):
        n_held = int((y == c).sum())
        if c not in synthetic or n_held == 0:
            per_class[c] = {
                "effect": "untested",
                "n_held_out": n_held,
                "why": "no synthetic samples added" if c not in synthetic else "no held-out images",
            }
            continue
        change = paired([w["recall"][c] - b["recall"][c] for b, w in runs])
        f1 = paired([w["f1"][c] - b["f1"][c] for b, w in runs])
        effect = "tie" if not f1["significant"] else ("helps" if f1["mean"] > 0 else "hurts")
        per_class[c] = {
            "f1_change": f1,
            "recall_change": change,
            "effect": effect,
            "n_held_out": n_held,
            "n_synthetic": int(len(synthetic[c])),
        }
    return {
        "config": asdict(cfg),
        "macro_f1_change": paired([w["macro_f1"] - b["macro_f1"] for b, w in runs]),
        "per_class": per_class,
        "n_held_out": int(len(y)),
    }


def apply_utility(decision: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The gate decision with the utility check (``result["per_class"]`` keyed by class name)
    folded in: a class whose samples hurt fails, with the measured change as its reason;
    every class carries its utility verdict."""
    decision = {**decision, "per_class": {k: dict(v) for k, v in decision["per_class"].items()}, "utility": result}
    for name, entry in result["per_class"].items():
        row = decision["per_class"][name]
        row["utility"] = entry["effect"]
        if entry["effect"] == "hurts":
            ci = entry["f1_change"]["ci95"]
            row["passed"] = False
            row["reasons"] = [
                *row.get("reasons", []),
                f"its samples made a classifier worse: F1 on held-out real images "
                f"{entry['f1_change']['mean']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}] "
                f"({entry['n_held_out']} of this class; utility check)",
            ]
    decision["passed_classes"] = [n for n in decision["per_class"] if decision["per_class"][n]["passed"]]
    return decision


def run_utility_check(
    run: Any, decision: dict[str, Any], selected: Any, cfg: UtilityConfig = UtilityConfig()
) -> dict[str, Any]:
    """The gate ``decision`` of a :class:`~augment_gan.run.Run` with its utility check folded in (see :func:`apply_utility`).

    Checked: the classes the gate passed that are smaller than the largest class (the ones a
    consumer adds samples to), each with ``ceil(share * largest)`` samples from
    ``selected(c, n)`` (uint8 NHWC). Trained on the run's GAN-training images, scored on its
    held-out ones."""
    data = run.data
    train_idx, hold_idx = run.split
    classes = list(data.classes)
    labels = data.labels
    counts = torch.bincount(labels[train_idx], minlength=len(classes))
    target = int(counts.max())
    n = math.ceil(cfg.share * target)
    synthetic = {
        c: torch.from_numpy(np.ascontiguousarray(selected(c, n).transpose(0, 3, 1, 2)))
        for c, name in enumerate(classes)
        if name in decision["passed_classes"] and int(counts[c]) < target
    }
    result = utility_check(
        data.images[train_idx], labels[train_idx], data.images[hold_idx], labels[hold_idx], synthetic, len(classes), cfg
    )
    result["per_class"] = {classes[c]: entry for c, entry in result["per_class"].items()}
    return apply_utility(decision, result)
