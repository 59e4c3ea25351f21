"""Builders shared by the export, runtime and dataset tests: a tiny generator and its model dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from augment_gan.export.onnx_export import check_parity, export_generator_onnx, export_metadata
from augment_gan.nets import Generator, NetConfig
from augment_gan.contracts.model_dir import write_model_dir
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
