"""Measure a generator against real images per class, without a run dir.

As torch-fidelity takes a generator either as a torch module or as an ONNX file,
:func:`measure` takes either :class:`augment_gan.nets.Generator` or an exported one
(:class:`augment_gan.runtime.OnnxGenerator`, opened by the caller: evaluation never imports
the runtime, which sits downstream of it), draws the same
latents for both (those :func:`~augment_gan.evaluation.evaluate.generate_per_class` draws,
so a torch generator's samples are the evaluation's own), and computes every registered
metric per class (``registry.py``) in a given extractor's features.

Example::

    judge = load_or_train_judge(...)                  # or any images -> features callable
    classes = measure(OnnxGenerator.load("models/digits/v1"), {"0": zeros, "1": ones}, extractor=judge)
    classes["1"]["kid"], classes["1"]["class_consistency"]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import torch

from augment_gan.contracts.reports import ClassRecord
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import class_metrics, generate_per_class
from augment_gan.evaluation.extractors import FeatureExtractor, extract_features

Images = torch.Tensor | np.ndarray  # uint8 (N, C, H, W)
Features = Callable[[torch.Tensor], Any]  # uint8 (N, C, H, W) -> (N, D) features


class OnnxGeneratorLike(Protocol):
    """What :func:`measure` uses of an ONNX generator (``augment_gan.runtime.OnnxGenerator``)."""

    latent_dim: int

    def generate_from_latents(self, z: np.ndarray, labels: np.ndarray) -> np.ndarray: ...


def measure(
    generator: torch.nn.Module | OnnxGeneratorLike,
    real_sets: Mapping[str, Images] | Sequence[Images],
    *,
    extractor: FeatureExtractor | Features,
    train_sets: Mapping[str, Images] | Sequence[Images] | None = None,
    cfg: EvalConfig = EvalConfig(),
    feature_scale: float | None = None,
) -> dict[str, ClassRecord]:
    """Per-class metric records (the shape of an evaluation report's ``classes``, with no
    band: ``band`` is None) of ``cfg.samples_per_class`` samples per class, drawn with
    ``cfg.seed``.

    ``generator``: a torch generator (``augment_gan.nets.Generator``), an ONNX one
    (``OnnxGenerator``), or a model dir's path (opened without per-sample selection).
    ``real_sets``: per class, in class-index order (a mapping's keys name the classes),
    uint8 (N, C, H, W) real images the samples are compared with. ``train_sets``: the same
    for the copy test (the images the generator trained on); without them ``copy_rate`` is
    None. ``extractor``: the features, a :class:`FeatureExtractor` (the domain judge: then
    class consistency and the judge's confidence are measured too) or a callable.
    ``feature_scale``: features are multiplied by it; None rescales them so the real
    images have unit mean variance per dimension, as the evaluation does for the judge's
    features (the gate's fixed bars are in those units)."""
    names, reals = _per_class(real_sets)
    trains = _per_class(train_sets)[1] if train_sets is not None else [np.zeros((0,), np.uint8)] * len(reals)
    if len(trains) != len(reals):
        raise ValueError(f"train_sets has {len(trains)} classes, real_sets {len(reals)}.")
    n = cfg.samples_per_class
    fakes = _generate(generator, len(reals), n, cfg.seed)

    def features(images: torch.Tensor) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, 1), np.float32)
        if isinstance(extractor, FeatureExtractor):
            return extract_features(extractor, images)
        return np.asarray(extractor(images), dtype=np.float32)

    real_features = [features(r) for r in reals]
    if feature_scale is None:
        spread = float(np.concatenate(real_features).var(axis=0).mean())
        feature_scale = 1.0 / max(spread, 1e-12) ** 0.5
    fake_features = features(fakes) * feature_scale
    judge = extractor if callable(getattr(extractor, "predict_logits", None)) else None
    logits = judge.predict_logits(fakes) if judge is not None else None  # type: ignore[union-attr]

    out: dict[str, ClassRecord] = {}
    for c, name in enumerate(names):
        reference = real_features[c] * feature_scale
        train = features(trains[c]) * feature_scale if len(trains[c]) else reference[:0]
        others = [real_features[k] for k in range(len(reals)) if k != c and len(real_features[k])]
        record = class_metrics(
            reference=reference,
            train=train,
            holdout=reference[:0],
            fake=fake_features[c * n : (c + 1) * n],
            cfg=cfg,
            others=np.concatenate(others) * feature_scale if others else None,
        )
        record["reference"] = "given"
        record["band"] = None
        record["class_consistency"] = None
        if logits is not None:
            mine = logits[c * n : (c + 1) * n]
            record["class_consistency"] = float((mine.argmax(1) == c).float().mean())
            record["judge_confidence"] = float(mine.softmax(dim=1)[:, c].mean())
        out[name] = record  # type: ignore[assignment]
    return out


def _per_class(sets: Mapping[str, Images] | Sequence[Images]) -> tuple[list[str], list[torch.Tensor]]:
    if isinstance(sets, Mapping):
        names, images = [str(k) for k in sets], list(sets.values())
    else:
        names, images = [str(c) for c in range(len(sets))], list(sets)
    tensors = [torch.as_tensor(np.asarray(x)) for x in images]
    for name, x in zip(names, tensors, strict=True):
        if x.dtype != torch.uint8 or x.ndim != 4:
            raise ValueError(f"class {name}: images must be uint8 (N, C, H, W), got {x.dtype} {tuple(x.shape)}.")
    return names, tensors


@torch.inference_mode()
def _generate(generator: torch.nn.Module | OnnxGeneratorLike, num_classes: int, n: int, seed: int) -> torch.Tensor:
    """uint8 (num_classes * n, C, H, W), class-major, from generate_per_class's latents."""
    if isinstance(generator, torch.nn.Module):
        cfg = generator.cfg  # augment_gan.nets.Generator
        if cfg.num_classes != num_classes:
            raise ValueError(f"the generator has {cfg.num_classes} classes, real_sets {num_classes}.")
        return generate_per_class(generator, cfg, n, seed)
    g = torch.Generator().manual_seed(seed)
    out = []
    for c in range(num_classes):
        z = torch.randn(n, generator.latent_dim, generator=g).numpy()
        images = generator.generate_from_latents(z, np.full(n, c, dtype=np.int64))  # (n, H, W, C)
        nchw = torch.from_numpy(images).permute(0, 3, 1, 2)
        # a fresh tensor, so its strides are the standard ones even with one channel (then
        # .contiguous() keeps NHWC's strides, and convolutions pick another kernel: 1e-8 off)
        out.append(torch.empty(nchw.shape, dtype=torch.uint8).copy_(nchw))
    return torch.cat(out)
