"""Export the domain judge to ONNX, so per-sample selection runs in every consumer without torch.

The graph::

    images    uint8   (N, C, H, W)        the generator's own output
    logits    float32 (N, num_classes)    class logits
    features  float32 (N, feature_dim)    the penultimate layer (the evaluation features, unscaled)

N is dynamic. :func:`export_judge_onnx` checks the export against PyTorch on a batch of
real images (logits and features within ``atol``) and raises :class:`ExportError` if not.

Example::

    data = export_judge_onnx(judge, images[:32])      # bytes for judge.onnx
"""

from __future__ import annotations

import copy

import numpy as np
import onnx
import torch
from torch import nn

from augment_gan.evaluation.domain import DomainJudge
from augment_gan.export.onnx_export import ExportError, cpu_session, trace_to_onnx

INPUT_NAME = "images"
OUTPUT_NAMES = ("logits", "features")


class _JudgeGraph(nn.Module):
    def __init__(self, judge: DomainJudge) -> None:
        super().__init__()
        self.judge = judge

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.judge(images)
        return self.judge.head(features), features


def export_judge_onnx(judge: DomainJudge, parity_images: torch.Tensor, *, atol: float = 1e-3) -> bytes:
    """Serialized ONNX of ``judge`` (eval mode, a CPU copy), parity-checked on ``parity_images``
    (uint8 N x C x H x W, a few real images)."""
    graph = _JudgeGraph(copy.deepcopy(judge).cpu().eval()).eval()
    model = trace_to_onnx(graph, (parity_images[:2].cpu(),), [INPUT_NAME], list(OUTPUT_NAMES))
    model.doc_string = (
        "augment-gan domain judge. Input: images uint8 (N, C, H, W). Outputs: logits float32 "
        "(N, classes), features float32 (N, feature_dim)."
    )
    model.producer_name = "augment-gan"
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString()
    _check_parity(data, graph, parity_images, atol)
    return data


def _check_parity(data: bytes, graph: nn.Module, images: torch.Tensor, atol: float) -> None:
    session = cpu_session(data)
    x = images.cpu()
    with torch.no_grad():
        expected = [t.numpy() for t in graph(x)]
    got = session.run(list(OUTPUT_NAMES), {INPUT_NAME: x.numpy()})
    single = session.run(list(OUTPUT_NAMES), {INPUT_NAME: x[:1].numpy()})
    for name, e, g, s in zip(OUTPUT_NAMES, expected, got, single):
        diff = max(float(np.abs(e - g).max()), float(np.abs(e[:1] - s).max()))
        scale = max(1.0, float(np.abs(e).max()))
        if not diff <= atol * scale:
            raise ExportError(
                f"the judge's ONNX {name} differ from PyTorch by {diff:.2g} (allowed {atol * scale:.2g})."
            )
