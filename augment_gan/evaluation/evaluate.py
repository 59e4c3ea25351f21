"""Evaluate checkpoints of a run, per class: the numbers the gate decides on.

How small classes stay meaningful (a minority class may have a dozen real images):

* Reference set. A class is compared with its held-out real images (never trained on)
  when it has at least ``min_holdout_reference`` of them; otherwise with all its real
  images the domain judge did not train on (half of its training images and the held-out
  ones; see :func:`judge_split`), because a handful of held-out images cannot describe a
  distribution. Which one was used, and its size, is in every per-class record.
* Memorisation is what comparing with training images could hide, so the copy check
  guards it, per sample: a sample closer to its nearest training image than ``copy_ratio``
  times that image's own nearest real neighbour counts as a copy (the ratio test; it
  needs no held-out images, so it means the same in a 15-image class).
* Every gated metric is also computed on real images standing in for the samples, at the
  class's own sizes: the real-vs-real band the gate compares with (``calibration.py``).
* FID needs many samples (its covariance has D x D entries); the gate uses it only for
  classes with enough reference images and relies on KID, which is unbiased at any
  size, below that (see ``gate.py``). Every number is printed with its sample size.
* Precision/recall/density/coverage are computed with as many generated samples as
  reference images, since k-NN radii shrink as a set grows.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from augment_gan.contracts.reports import EvalReport
from augment_gan.data import ImageData
from augment_gan.evaluation.calibration import (
    BAND_KID_SUBSETS,
    Sizes,
    binomial_upper,
    consistency_band,
    own_copy_rate,
    real_band,
)
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.domain import JudgeConfig, load_or_train_judge, per_class_accuracy
from augment_gan.evaluation.extractors import extract_features, get_extractor
from augment_gan.evaluation.metrics import fid, inception_score, kid, manifold_metrics
from augment_gan.evaluation.registry import ClassSets, compute_all
from augment_gan.nets import NetConfig
from augment_gan.run import Run, RunSpec
from augment_gan.run.samples import to_uint8


@torch.inference_mode()
def generate_per_class(generator: torch.nn.Module, net_cfg: NetConfig, n: int, seed: int) -> torch.Tensor:
    """uint8 samples (num_classes * n, C, H, W), class-major, from a fixed noise stream."""
    g = torch.Generator().manual_seed(seed)
    generator.eval()
    device = next(generator.parameters()).device
    out = []
    for c in range(net_cfg.num_classes):
        z = torch.randn(n, net_cfg.latent_dim, generator=g)
        y = torch.full((n,), c, dtype=torch.long)
        for i in range(0, n, 256):
            out.append(to_uint8(generator(z[i : i + 256].to(device), y[i : i + 256].to(device)).cpu()))
    return torch.cat(out)


JUDGE_SHARE = 0.5  # of each class's training images, the share the domain judge trains on


def judge_split(train_idx: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """The judge's training images: ``JUDGE_SHARE`` of each class's training images (at
    least one), sorted, the same for the same seed.

    The other half is why: a classifier's features pull the images it trained on together
    (on the digits, a new image of a 13-image class lies 2-3x farther from that class's
    judge-training images than they lie from each other; 1.1-1.3x in pixels). Generated
    samples are new to the judge, so they are compared with real images that are too: the
    reference sets and the real-vs-real bands use only images the judge did not train on.
    """
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels[train_idx]):
        idx = train_idx[labels[train_idx] == c]
        chosen.append(rng.permutation(idx)[: max(1, int(len(idx) * JUDGE_SHARE))])
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def run_judge(run: Run, cfg: EvalConfig) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, Any]:
    """(train indices, held-out indices, judge-training mask, judge) of a run: the split the
    GAN trained on and the domain judge for it (trained once, then read from the cache)."""
    data = run.data
    train_idx, hold_idx = run.split
    judge_idx = judge_split(train_idx.numpy(), data.labels.numpy(), cfg.seed)
    judge = load_or_train_judge(
        data.images[judge_idx],
        data.labels[judge_idx],
        len(data.classes),
        dataset_key=data.key,
        train_paths=[data.paths[i] for i in judge_idx],
        cfg=JudgeConfig(steps=cfg.judge_steps, seed=cfg.seed),
    )
    is_judge = np.zeros(len(data.labels), dtype=bool)
    is_judge[judge_idx] = True
    return train_idx, hold_idx, is_judge, judge


def selection_inputs(run: Run, cfg: EvalConfig) -> tuple[Any, list[dict[str, Any]]]:
    """What per-sample selection is built from (``runtime/selection.py``'s ``build_reference``):
    the run's judge and, per class, its GAN-training images (uint8 NHWC) with their judge
    features (and which of them the judge never trained on), and the judge features of its
    real images the judge never trained on."""
    data = run.data
    train_idx, _, is_judge, judge = run_judge(run, cfg)
    features = extract_features(judge, data.images)
    labels = data.labels.numpy()
    is_train = np.zeros(len(labels), dtype=bool)
    is_train[train_idx.numpy()] = True
    per_class = []
    for c in range(len(data.classes)):
        train = np.flatnonzero((labels == c) & is_train)
        per_class.append(
            {
                "train_images": data.images[torch.from_numpy(train)].permute(0, 2, 3, 1).numpy(),
                "train_features": features[train],
                "train_unseen": ~is_judge[train],
                "support_features": features[(labels == c) & ~is_judge],
            }
        )
    return judge, per_class


class RunEvaluator:
    """Everything shared by the checkpoints of one run: data, split, judge, real features.

    Build it once (this trains or loads the cached judge) and call :meth:`evaluate` per
    checkpoint; that is what keeps ``--eval-every`` cheap during training.
    """

    def __init__(
        self,
        run: Run | str | Path,
        cfg: EvalConfig = EvalConfig(),
        data: ImageData | None = None,
        progress: bool = False,
    ) -> None:
        """``run``: a :class:`Run`, or its dir (opened here, with ``data`` as its folder when the caller has it)."""
        if not isinstance(run, Run):
            run = Run(run, RunSpec.read(run), data, progress=progress)
        self.run = run
        self.run_dir, self.cfg = self.run.path, cfg
        self.data = self.run.data
        self.classes = self.data.classes
        train_idx, hold_idx, self.is_judge, self.judge = run_judge(self.run, cfg)
        self.train_idx, self.hold_idx = train_idx, hold_idx
        images, labels = self.data.images, self.data.labels
        unseen = torch.from_numpy(np.flatnonzero(~self.is_judge))
        self.judge_report = per_class_accuracy(self.judge, images[unseen], labels[unseen], len(self.classes))
        if cfg.features == "domain":
            self.extractor = self.judge
        else:
            kwargs = {"weights_path": cfg.inception_weights} if cfg.features == "inception" else {}
            self.extractor = get_extractor(cfg.features, **kwargs)
        self.real_features = extract_features(self.extractor, images)
        # The judge's feature scale is arbitrary and differs per dataset; rescale so the real
        # training features have unit mean variance per dimension. FID then reads in units of
        # the real data's own spread, which is what lets one default threshold serve many
        # datasets. (Precision/recall/density/coverage and copies are scale-free anyway.)
        self.feature_scale = 1.0
        if cfg.features == "domain":
            spread = float(self.real_features[train_idx.numpy()].var(axis=0).mean())
            self.feature_scale = 1.0 / max(spread, 1e-12) ** 0.5
            self.real_features = self.real_features * self.feature_scale
        self.labels = labels.numpy()
        self.real_predicted = self.judge.predict(images)
        self.is_train = np.zeros(len(labels), dtype=bool)
        self.is_train[train_idx.numpy()] = True
        self.bands: dict[int, dict[str, Any] | None] = {}  # class -> real-vs-real band, made on first use

    def evaluate_checkpoint(self, which: str | int = "latest", write: bool = True) -> EvalReport:
        generator, net_cfg, step = self.run.ema_generator(which)
        report = self.evaluate(generator, net_cfg, step)
        if write:
            self.run.dir.write_eval_report(step, report)
        return report

    def evaluate(self, generator: torch.nn.Module, net_cfg: NetConfig, step: int) -> EvalReport:
        t0 = time.perf_counter()
        cfg, n = self.cfg, self.cfg.samples_per_class
        fakes = generate_per_class(generator, net_cfg, n, cfg.seed)
        fake_labels = np.repeat(np.arange(net_cfg.num_classes), n)
        fake_features = extract_features(self.extractor, fakes) * self.feature_scale
        self.last_fakes = fakes  # kept for the report's sample strips
        judge_logits = self.judge.predict_logits(fakes)
        predicted = judge_logits.argmax(1).numpy()
        confidence = judge_logits.softmax(dim=1)[torch.arange(len(fake_labels)), torch.from_numpy(fake_labels)].numpy()

        per_class, overall_real, overall_fake = {}, [], []
        total_reference = sum(self._reference(c)[0].sum() for c in range(len(self.classes)))
        for c, name in enumerate(self.classes):
            fake_c = fake_features[fake_labels == c]
            ref_mask, ref_kind = self._reference(c)
            in_class = self.labels == c
            record = class_metrics(
                reference=self.real_features[ref_mask],
                train=self.real_features[in_class & self.is_train],
                holdout=self.real_features[in_class & ~self.is_train],
                fake=fake_c,
                cfg=cfg,
                others=self.real_features[~in_class],
            )
            record["reference"] = ref_kind
            record["band"] = self.band(c, record)
            record["class_consistency"] = float((predicted[fake_labels == c] == c).mean())
            # the judge's mean probability for the class asked for: an IS-like confidence per class
            record["judge_confidence"] = float(confidence[fake_labels == c].mean())
            per_class[name] = record
            # overall: fakes in the reference's class proportions, so FID does not punish
            # the (deliberately) uniform class mix of the generated set
            k = max(2, round(n * len(self.classes) * ref_mask.sum() / total_reference))
            overall_real.append(self.real_features[ref_mask])
            overall_fake.append(fake_c[: min(k, n)])

        real_all, fake_all = np.concatenate(overall_real), np.concatenate(overall_fake)
        kid_mean, kid_std = kid(
            real_all, fake_all, num_subsets=cfg.kid_subsets, subset_size=cfg.kid_subset_size, seed=cfg.seed
        )
        overall = {
            "fid": fid(real_all, fake_all),
            "kid": kid_mean,
            "kid_std": kid_std,
            **manifold_metrics(real_all, fake_all[: len(real_all)], pr_k=cfg.pr_k, dc_k=cfg.dc_k),
            "class_consistency": float(np.mean([r["class_consistency"] for r in per_class.values()])),
            # Inception Score of all samples in the judge's classes (at most the class count)
            "judge_is": inception_score(judge_logits, splits=min(10, len(judge_logits)))[0],
            "copy_rate": float(np.mean([r["copy_rate"] for r in per_class.values()])),
            **self._inception_score(fake_features),
            "n_real": int(len(real_all)),
            "n_fake": int(len(fake_all)),
        }
        return {
            "step": step,
            "features": cfg.features,
            "config": asdict(cfg),
            "judge": {
                "accuracy": self.judge_report["accuracy"],
                "n": self.judge_report["n"],
                "per_class": {self.classes[c]: v for c, v in self.judge_report["per_class"].items()},
            },
            "overall": overall,
            "classes": per_class,
            "seconds": time.perf_counter() - t0,
        }

    def _inception_score(self, fake_features: np.ndarray) -> dict[str, float]:
        """IS beside FID with ``--features inception`` (torch-fidelity's estimator, on the same weights)."""
        if self.cfg.features != "inception":
            return {}
        from augment_gan.evaluation.inception import unbiased_logits

        mean, std = inception_score(unbiased_logits(self.extractor, fake_features), splits=min(10, len(fake_features)))
        return {"inception_score": mean, "inception_score_std": std}

    def band(self, c: int, record: dict[str, Any]) -> dict[str, Any] | None:
        """Class c's real-vs-real band at its sizes (the same for every checkpoint)."""
        if self.cfg.band_draws <= 0:
            return None
        if c not in self.bands:
            self.bands[c] = self._make_band(c, Sizes(record["n_train"], record["n_reference"], record["n_fake"]))
        return self.bands[c]

    def _make_band(self, c: int, sizes: Sizes) -> dict[str, Any] | None:
        # Fewer KID subsets per draw (cost): the band's KID is then a little noisier than the
        # evaluation's, so its band a little wider; lenient, never stricter.
        cfg = replace(self.cfg, kid_subsets=min(self.cfg.kid_subsets, BAND_KID_SUBSETS))
        classes = [self.labels == k for k in range(len(self.classes))]
        band = real_band(
            [self.real_features[m & ~self.is_judge] for m in classes],
            [self.real_features[m & self.is_judge] for m in classes],
            c,
            sizes,
            lambda **sets: class_metrics(**sets, cfg=cfg),
            draws=cfg.band_draws,
            false_rejection=cfg.band_false_rejection,
            seed=cfg.seed + c,
        )
        if band is None:
            return None
        unseen = ~self.is_judge
        consistency = consistency_band(self.real_predicted[unseen], self.labels[unseen], c, band["level"])
        if consistency is not None:
            band["metrics"]["class_consistency"] = consistency
        # the copy band widens to this class's own near-duplicate rate, at the samples' count
        mine = classes[c]
        k, n = own_copy_rate(
            self.real_features[mine & self.is_train],
            self.real_features[mine & ~self.is_train],
            cfg.copy_ratio,
            seed=cfg.seed,
        )
        copies = band["metrics"].get("copy_rate")
        if copies is not None and n:
            copies.update(
                hi=max(copies["hi"], binomial_upper(k / n, sizes.n_fake, band["level"])), own_rate=k / n, own_n=n
            )
        return band

    def _reference(self, c: int) -> tuple[np.ndarray, str]:
        holdout = (self.labels == c) & ~self.is_train
        if holdout.sum() >= self.cfg.min_holdout_reference:
            return holdout, "holdout"
        return (self.labels == c) & ~self.is_judge, "judge-unseen"


def class_metrics(
    *,
    reference: np.ndarray,
    train: np.ndarray,
    holdout: np.ndarray,
    fake: np.ndarray,
    cfg: EvalConfig,
    others: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every per-class number from features: the reference set, the class's training and
    held-out real images, its generated samples, and the other classes' real images (the
    class test's foil; None: not measured); each registered metric's compute function
    (``registry.py``) once. Sample sizes ride along."""
    record: dict[str, Any] = {
        "n_train": int(len(train)),
        "n_holdout": int(len(holdout)),
        "n_fake": int(len(fake)),
        "n_reference": int(len(reference)),
    }
    sets = ClassSets(reference=reference, train=train, holdout=holdout, fake=fake, others=others)
    record.update(compute_all(sets, cfg))
    return record
