"""The domain judge's ONNX export: the same logits and features as PyTorch, any batch size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augment_gan.evaluation.domain import DomainJudge, JudgeConfig, train_judge
from augment_gan.export.judge_export import OUTPUT_NAMES, export_judge_onnx
from augment_gan.export.onnx_export import ExportError, cpu_session


@pytest.fixture(scope="module")
def judge_and_images() -> tuple[DomainJudge, torch.Tensor]:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (24, 1, 16, 16), dtype=torch.uint8, generator=g)
    labels = torch.arange(24) % 3
    return train_judge(images, labels, 3, JudgeConfig(steps=5, width=4)), images


def test_export_matches_pytorch_at_any_batch_size(judge_and_images) -> None:
    judge, images = judge_and_images
    data = export_judge_onnx(judge, images[:8])
    session = cpu_session(data)  # one thread: nothing a later forked DataLoader worker could trip on
    logits, features = session.run(list(OUTPUT_NAMES), {"images": images.numpy()})
    with torch.no_grad():
        assert np.allclose(logits, judge.logits(images).numpy(), atol=1e-4)
        assert np.allclose(features, judge(images).numpy(), atol=1e-4)
    assert logits.shape == (24, 3) and features.shape == (24, judge.feature_dim)


def test_a_broken_export_is_refused(judge_and_images, monkeypatch) -> None:
    judge, images = judge_and_images
    from augment_gan.export import judge_export

    real_graph = judge_export._JudgeGraph

    class Drifting(real_graph):  # PyTorch's answer drifts from what was exported
        calls = 0

        def forward(self, x):
            Drifting.calls += 1
            logits, features = super().forward(x)
            return (logits + 1.0, features) if Drifting.calls > 1 else (logits, features)

    monkeypatch.setattr(judge_export, "_JudgeGraph", Drifting)
    with pytest.raises(ExportError, match="logits differ"):
        export_judge_onnx(judge, images[:8])
