"""Builders shared by the export, runtime and dataset tests: a tiny generator and its model dir,
and a per-sample selector built on real digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits

from augment_gan.contracts.model_dir import JUDGE_NAME, SELECTION_NAME, read_card, write_model_dir
from augment_gan.contracts.selection import build_reference, reference_bytes
from augment_gan.evaluation.domain import JudgeConfig, train_judge
from augment_gan.export.judge_export import export_judge_onnx
from augment_gan.export.onnx_export import check_parity, export_generator_onnx, export_metadata
from augment_gan.nets import Generator, NetConfig
from augment_gan.runtime.selection import SampleSelector
from augment_gan.training.ema import recalibrate_batchnorm

CLASSES = ["cat", "dog", "eel"]


def tiny_config(channels: int = 1, num_classes: int = 3) -> NetConfig:
    return NetConfig(num_classes=num_classes, resolution=32, channels=channels, latent_dim=8, g_width=4, d_width=4)


def tiny_generator(cfg: NetConfig, seed: int = 0) -> Generator:
    """Random weights, but class embeddings that differ per class and calibrated BatchNorm.

    Default init makes every class draw the same image (gain 1, bias 0), which would let
    a label mix-up pass the tests.
    """
    torch.manual_seed(seed)
    G = Generator(cfg)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("gain.weight"):
                p.normal_(1.0, 0.5)
            elif name.endswith("bias.weight"):
                p.normal_(0.0, 0.5)
    recalibrate_batchnorm(G, cfg.num_classes, cfg.latent_dim, batches=2, batch_size=16, seed=seed)
    return G.eval()


def export_tiny(cfg: NetConfig, classes: list[str], seed: int = 0) -> tuple[Generator, bytes, int]:
    """(torch generator, onnx bytes, parity max diff)."""
    G = tiny_generator(cfg, seed)
    data = export_generator_onnx(G, cfg, export_metadata(classes, cfg, name="tiny", version=1))
    return G, data, check_parity(data, G, cfg)


def gate(classes: list[str], failed: dict[str, list[str]] | None = None) -> dict[str, Any]:
    failed = failed or {}
    return {
        "ran": True,
        "per_class": {c: {"passed": c not in failed, "reasons": failed.get(c, [])} for c in classes},
        "thresholds": {"fid": 100.0},
    }


def write_tiny_model(
    models_dir: Path,
    onnx_bytes: bytes,
    cfg: NetConfig,
    classes: list[str],
    *,
    gate_block: dict[str, Any] | None = None,
    name: str = "tiny",
) -> Path:
    card = {
        "classes": classes,
        "resolution": cfg.resolution,
        "channels": cfg.channels,
        "latent_dim": cfg.latent_dim,
        "source": {"run_dir": "runs/x", "step": 6, "checkpoint": "step-0000006.pt"},
        "gate": gate_block if gate_block is not None else gate(classes),
        "metrics": {},
        "onnx_opset": 17,
    }
    return write_model_dir(models_dir, name, {"generator.onnx": onnx_bytes}, card, promote=True)


# --- per-sample selection -------------------------------------------------------------
N_TRAIN = 40  # "GAN-training" images per class in make_selector; the judge trains on the first half


def digits_32(digit: int) -> np.ndarray:
    """Real digits of one class in a fixed random order, uint8 (N, 32, 32, 1) (8x8 scaled up, bilinear)."""
    data = load_digits()
    images = data.images[data.target == digit]
    images = images[np.random.default_rng(digit).permutation(len(images))]  # the file order follows the writers
    up = [
        np.asarray(Image.fromarray((im * 255 / 16).astype(np.uint8)).resize((32, 32), Image.Resampling.BILINEAR))
        for im in images
    ]
    return np.stack(up)[..., None]


def make_selector(per_class_images: list[np.ndarray]) -> tuple[SampleSelector, list[np.ndarray]]:
    """A selector built like promote builds one: the judge on half the training images,
    the support from the images it never saw. Returns it and each class's held-out images."""
    train = [im[:N_TRAIN] for im in per_class_images]
    judge_images = torch.from_numpy(np.concatenate([t[: N_TRAIN // 2] for t in train]).transpose(0, 3, 1, 2).copy())
    judge_labels = torch.cat([torch.full((N_TRAIN // 2,), c) for c in range(len(train))])
    torch.manual_seed(0)
    judge = train_judge(judge_images, judge_labels, len(train), JudgeConfig(steps=150, width=8))
    onnx_bytes = export_judge_onnx(judge, judge_images[:8])
    _, features = SampleSelector(onnx_bytes, {"tau": np.zeros(len(train))}).judge(np.concatenate(train))
    reference = build_reference(
        [
            {
                "train_images": t,
                "train_features": features[c * N_TRAIN : (c + 1) * N_TRAIN],
                "train_unseen": np.arange(N_TRAIN) >= N_TRAIN // 2,
                "support_features": features[c * N_TRAIN + N_TRAIN // 2 : (c + 1) * N_TRAIN],
            }
            for c, t in enumerate(train)
        ]
    )
    return SampleSelector(onnx_bytes, reference, providers=["CPUExecutionProvider"]), [
        im[N_TRAIN:] for im in per_class_images
    ]


def write_selecting_model(
    models_dir: Path,
    classes: list[str] | None = None,
    name: str = "tiny-selecting",
    gate_block: dict[str, Any] | None = None,
) -> Path:
    """The tiny generator's model dir with a selector whose 'real' images are the generator's
    own samples (other latents): its candidates then pass often but not always."""
    classes = classes or CLASSES
    cfg = tiny_config(num_classes=len(classes))
    G, onnx_bytes, _ = export_tiny(cfg, classes)
    own = []
    for c in range(len(classes)):
        z = torch.from_numpy(np.random.default_rng([99, c]).standard_normal((80, cfg.latent_dim)).astype(np.float32))
        with torch.no_grad():
            out = G(z, torch.full((80,), c))
        own.append(((out.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy())
    selector, _ = make_selector(own)
    model_dir = write_tiny_model(models_dir, onnx_bytes, cfg, classes, name=name, gate_block=gate_block)
    card = read_card(model_dir)
    card["selection"] = {"format": 1, "per_class": {}}
    files = {
        "generator.onnx": onnx_bytes,
        JUDGE_NAME: selector._judge,
        SELECTION_NAME: reference_bytes(selector.reference),
    }
    return write_model_dir(models_dir, name, files, card)
