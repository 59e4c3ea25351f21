"""The ``domain`` judge: a small CNN classifier trained on the run's real training images.

Its penultimate layer gives features in which FID/KID/precision/recall are computed
without any pretrained weights, and its predictions give class consistency: the share of
samples generated for class c that the judge classifies as c. Its accuracy on held-out
real images is reported beside every evaluation, so a weak judge is visible.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from augment_gan.data.cache import default_cache_dir
from augment_gan.evaluation.config import JUDGE_STEPS
from augment_gan.evaluation.extractors import FeatureExtractor
from augment_gan.fileio import atomic_write

JUDGE_FORMAT = 1


class DomainJudge(FeatureExtractor):
    """Three conv-BN-ReLU blocks (the first two stride 2), global average pool -> features
    (4 x width) -> class logits. Strided convs instead of pooling keep it cheap on a CPU.

    Images larger than ``MAX_SIDE`` are average-pooled down to it first (inside the module,
    so judge.onnx does the same): a 128 px judge would cost 4x a 64 px one per step (16x at
    256) for classifying classes that differ at 64 px. 32 and 64 px judges are unchanged."""

    needs_rgb = False
    MAX_SIDE = 64

    def __init__(self, num_classes: int, channels: int, width: int = 32) -> None:
        super().__init__()
        self.feature_dim = width * 4
        self.num_classes, self.channels, self.width = num_classes, channels, width

        def block(a: int, b: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(a, b, 3, stride, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU())

        self.body = nn.Sequential(
            block(channels, width, 2),  # state size: width x H/2 x W/2
            block(width, width * 2, 2),  # (2 width) x H/4 x W/4
            block(width * 2, width * 4, 1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(self.feature_dim, num_classes)

    @classmethod
    def shrink(cls, images: torch.Tensor) -> torch.Tensor:
        """Images over MAX_SIDE average-pooled to it (as float); others as they are."""
        side = images.shape[-1]
        return F.avg_pool2d(images.float(), side // cls.MAX_SIDE) if side > cls.MAX_SIDE else images

    @classmethod
    def _prepare(cls, images_uint8: torch.Tensor) -> torch.Tensor:
        # shrink(x) / 127.5 - 1 equals shrinking after the scaling: pooling is linear
        return cls.shrink(images_uint8).float() / 127.5 - 1.0

    def forward(self, images_uint8: torch.Tensor) -> torch.Tensor:
        """Penultimate features (N x feature_dim)."""
        return self.body(self._prepare(images_uint8))

    def logits(self, images_uint8: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self._prepare(images_uint8)))

    @torch.inference_mode()
    def predict_logits(self, images_uint8: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Class logits per image (N x num_classes, float32, on the CPU)."""
        self.eval()
        device = next(self.parameters()).device
        out = [
            self.logits(images_uint8[i : i + batch_size].to(device)).float().cpu()
            for i in range(0, len(images_uint8), batch_size)
        ]
        return torch.cat(out) if out else torch.zeros(0, self.num_classes)

    def predict(self, images_uint8: torch.Tensor, batch_size: int = 256) -> np.ndarray:
        """Predicted class index per image."""
        return self.predict_logits(images_uint8, batch_size).argmax(1).numpy()


@dataclass(frozen=True)
class JudgeConfig:
    steps: int = JUDGE_STEPS
    batch_size: int = 64
    lr: float = 2e-3
    width: int = 32
    seed: int = 0


def _random_shift(x: torch.Tensor, g: torch.Generator, max_shift: int) -> torch.Tensor:
    """Translate each image by up to max_shift pixels (zero padding): cheap robustness."""
    n, _, h, w = x.shape
    padded = F.pad(x, [max_shift] * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=g)
    return torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])


def train_judge(
    images: torch.Tensor, labels: torch.Tensor, num_classes: int, cfg: JudgeConfig, weights: torch.Tensor | None = None
) -> DomainJudge:
    """Train on uint8 images with class-balanced batches (small classes matter most here), or
    batches drawn with the given per-image sampling ``weights``."""
    g = torch.Generator().manual_seed(cfg.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        judge = DomainJudge(num_classes, images.shape[1], cfg.width)
    if weights is None:
        counts = torch.bincount(labels, minlength=num_classes).clamp(min=1).double()
        weights = 1.0 / counts[labels]
    images = DomainJudge.shrink(images)  # once, not per batch; the shifts below are then at <= MAX_SIDE px
    opt = torch.optim.Adam(judge.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    judge.train()
    for _ in range(cfg.steps):
        idx = torch.multinomial(weights, cfg.batch_size, replacement=True, generator=g)
        x = _random_shift(images[idx].float(), g, max_shift=max(1, images.shape[-1] // 16))
        loss = F.cross_entropy(judge.logits(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return judge.eval()


def judge_cache_key(dataset_key: str, train_paths: list[str], cfg: JudgeConfig) -> str:
    h = hashlib.sha256(f"{JUDGE_FORMAT}|{dataset_key}|{cfg}".encode())
    for p in train_paths:
        h.update(p.encode() + b"\0")
    return h.hexdigest()[:32]


def load_or_train_judge(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    *,
    dataset_key: str,
    train_paths: list[str],
    cfg: JudgeConfig = JudgeConfig(),
    cache_dir: Path | None = None,
) -> DomainJudge:
    """The judge for this exact training split, trained once and cached on disk."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "judges"
    path = folder / f"judge-{judge_cache_key(dataset_key, train_paths, cfg)}.pt"
    if path.is_file():
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            judge = DomainJudge(num_classes, images.shape[1], cfg.width)
            judge.load_state_dict(state["weights"])
            return judge.eval()
        except Exception:  # unreadable or stale cache: retrain
            pass
    judge = train_judge(images, labels, num_classes, cfg)
    try:
        atomic_write(path, lambda f: torch.save({"format": JUDGE_FORMAT, "weights": judge.state_dict()}, f))
    except OSError:
        pass  # a read-only cache only costs a retrain next time
    return judge


def per_class_accuracy(judge: DomainJudge, images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict:
    """Overall and per-class accuracy of the judge on (held-out) real images."""
    if len(labels) == 0:
        return {"accuracy": None, "n": 0, "per_class": {}}
    pred = judge.predict(images)
    y = labels.numpy()
    per_class = {}
    for c in range(num_classes):
        mask = y == c
        per_class[c] = {"accuracy": float((pred[mask] == c).mean()) if mask.any() else None, "n": int(mask.sum())}
    return {"accuracy": float((pred == y).mean()), "n": int(len(y)), "per_class": per_class}
