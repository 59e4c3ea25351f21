"""A generator measured on a disjoint real test set, as quality and time to quality do.

The split: MNIST t10k, 8 majority digits with ``n_major`` training images, the minority
digits 3 and 8 with ``n_minor``, and ``n_test`` images per class that no GAN and no judge
trains on, decoded exactly as the training folder is. The measurement is the library's
``augment_gan.evaluation.measure`` in the features of the run's own domain judge (trained
on the run's training split, cached), rescaled as the evaluation rescales them (unit mean
variance of the run's training images), so the gate's fixed bars keep their meaning; copies
are judged against the run's training images. The "real floor" measures half of each
class's test images against the other half, the same way.

Example::

    tests = TestSet.load(test_dir, train_data)
    measurer = Measurer.for_run(run_dir, tests, judge_steps=400, seed=0, data=train_data)
    per_class = measurer.measure(generator, samples=300, seed=0)
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .mnist import MINORITY, make_split

METRICS = ("fid", "kid", "precision", "recall", "density", "coverage", "class_consistency", "copy_rate")


def quality_split(labels: np.ndarray, n_major: int, n_minor: int, n_test: int, seed: int) -> dict:
    """Disjoint, seeded train / test indices per class (``mnist.make_split`` with no val part)."""
    split = make_split(labels, n_major, n_minor, 0, n_test, seed)
    return {"train": split["train"], "test": split["test"]}


@dataclass
class TestSet:
    """Real test images per class name, uint8 (N, C, H, W), decoded as the training folder."""

    classes: list[str]
    images: dict[str, Any]  # class -> uint8 tensor

    @classmethod
    def load(cls, test_dir: Path, train_data) -> TestSet:
        from augment_gan.data import load_image_folder

        data = load_image_folder(
            test_dir, resolution=train_data.resolution, channels=train_data.channels, progress=False
        )
        if data.classes != train_data.classes:
            raise SystemExit(f"test classes {data.classes} != train classes {train_data.classes}")
        return cls(list(data.classes), {c: data.images[data.labels == i] for i, c in enumerate(data.classes)})

    def halves(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The first and the second half of each class's images."""
        h = min(len(x) for x in self.images.values()) // 2
        return {c: x[:h] for c, x in self.images.items()}, {c: x[h : 2 * h] for c, x in self.images.items()}


class RealImages:
    """Real images standing in for a generator (``measure``'s ONNX-generator protocol):
    class c's images, in order."""

    latent_dim = 1

    def __init__(self, sets: dict[str, Any]) -> None:
        self.sets = list(sets.values())

    def generate_from_latents(self, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        images = self.sets[int(labels[0])][: len(z)]
        if len(images) < len(z):
            raise ValueError(f"class {int(labels[0])} has {len(images)} images, {len(z)} asked for")
        return images.permute(0, 2, 3, 1).numpy()  # (n, H, W, C), as an ONNX generator returns them


@dataclass
class Measurer:
    """A run's judge, its feature scale and training images: what measuring on the test set needs."""

    tests: TestSet
    judge: Any
    feature_scale: float
    train_sets: dict[str, Any]
    judge_accuracy: dict[str, Any]

    @classmethod
    def for_run(cls, run_dir: Path, tests: TestSet, *, judge_steps: int, seed: int, data=None) -> Measurer:
        """``data``: the run's folder when the caller has it loaded (else it is loaded again)."""
        import torch

        from augment_gan.evaluation.config import EvalConfig
        from augment_gan.evaluation.domain import per_class_accuracy
        from augment_gan.evaluation.evaluate import run_judge
        from augment_gan.evaluation.extractors import extract_features
        from augment_gan.run import Run, RunSpec

        run = Run(run_dir, RunSpec.read(run_dir), data, progress=False)
        train_idx, _, _, judge = run_judge(run, EvalConfig(seed=seed, judge_steps=judge_steps))
        images, labels = run.data.images[train_idx], run.data.labels[train_idx]
        spread = float(extract_features(judge, images).var(axis=0).mean())  # as the evaluation rescales
        all_test = torch.cat(list(tests.images.values()))
        test_labels = torch.cat([torch.full((len(x),), i) for i, x in enumerate(tests.images.values())])
        return cls(
            tests,
            judge,
            1.0 / max(spread, 1e-12) ** 0.5,
            {c: images[labels == i] for i, c in enumerate(run.data.classes)},
            per_class_accuracy(judge, all_test, test_labels, len(tests.classes)),
        )

    def measure(self, generator, samples: int, seed: int) -> dict[str, dict]:
        """Per-class records of ``samples`` samples per class against the whole test set."""
        return self._measure(generator, self.tests.images, samples, seed)

    def real_floor(self, seed: int) -> dict[str, Any]:
        """Half of each class's test images measured against the other half, as a generator is."""
        reference, stand_in = self.tests.halves()
        n = len(next(iter(stand_in.values())))
        per_class = self._measure(RealImages(stand_in), reference, n, seed)
        return {
            "note": "real vs real: each class's test images in halves (n_each each); class_consistency: "
            "the judge's accuracy on the second half",
            "n_each": n,
            "per_class": {c: {k: r.get(k) for k in ("n_reference", "n_fake", *METRICS)} for c, r in per_class.items()},
            "groups": group_means(per_class),
        }

    def _measure(self, generator, reference: dict[str, Any], samples: int, seed: int) -> dict[str, dict]:
        from augment_gan.evaluation import measure
        from augment_gan.evaluation.config import EvalConfig

        cfg = EvalConfig(samples_per_class=samples, seed=seed)
        records = measure(
            generator,
            reference,
            extractor=self.judge,
            train_sets=self.train_sets,
            cfg=cfg,
            feature_scale=self.feature_scale,
        )
        for r in records.values():
            r["reference"] = "test (disjoint)"
        return records


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


def class_gate(per_class: dict[str, dict], thresholds, step: int) -> dict[str, Any]:
    """The gate's per-class checks on test-set records (no overall check: a test-set
    measurement has no overall FID)."""
    from augment_gan.evaluation.gate import GateThresholds, apply_gate

    per_class_only = GateThresholds(**{**thresholds.as_dict(), "max_overall_fid": float("inf")})
    return apply_gate({"step": step, "overall": {"fid": 0.0, "n_real": 0}, "classes": per_class}, per_class_only)
