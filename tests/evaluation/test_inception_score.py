"""Inception Score: torch-fidelity's estimator on the same logits, and what it must read."""

import numpy as np
import pytest
import torch

from augment_gan.evaluation.metrics.inception_score import inception_score


def _torch_fidelity_isc(feature: torch.Tensor, splits: int = 10, shuffle: bool = True, rng_seed: int = 2020):
    """torch-fidelity's isc_features_to_metric (v0.3), transcribed: the parity reference."""
    n = feature.shape[0]
    if shuffle:
        feature = feature[np.random.RandomState(rng_seed).permutation(n), :]
    feature = feature.double()
    p, log_p = feature.softmax(dim=1), feature.log_softmax(dim=1)
    scores = []
    for i in range(splits):
        p_chunk = p[(i * n // splits) : ((i + 1) * n // splits), :]
        log_p_chunk = log_p[(i * n // splits) : ((i + 1) * n // splits), :]
        q_chunk = p_chunk.mean(dim=0, keepdim=True)
        kl = p_chunk * (log_p_chunk - q_chunk.log())
        scores.append(kl.sum(dim=1).mean().exp().item())
    return float(np.mean(scores)), float(np.std(scores))


@pytest.mark.parametrize("n, c, splits", [(1000, 1008, 10), (137, 10, 7), (50, 3, 1)])
def test_same_numbers_as_torch_fidelity_on_the_same_logits(n, c, splits) -> None:
    logits = torch.randn(n, c, generator=torch.Generator().manual_seed(n)) * 3
    assert inception_score(logits, splits=splits) == pytest.approx(_torch_fidelity_isc(logits, splits), rel=1e-12)


def test_reads_one_for_uninformative_and_the_class_count_for_confident_even_predictions() -> None:
    assert inception_score(torch.zeros(100, 10))[0] == pytest.approx(1.0)
    confident = torch.full((100, 10), -50.0)
    confident[torch.arange(100), torch.arange(100) % 10] = 50.0
    assert inception_score(confident, shuffle=False)[0] == pytest.approx(10.0, rel=1e-6)
    collapsed = torch.full((100, 10), -50.0)
    collapsed[:, 3] = 50.0
    assert inception_score(collapsed)[0] == pytest.approx(1.0, rel=1e-6)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="N x C"):
        inception_score(torch.zeros(5, 3), splits=10)
    with pytest.raises(ValueError, match="N x C"):
        inception_score(torch.zeros(5))


def test_inception_logits_are_its_fc_without_the_bias() -> None:
    from augment_gan.evaluation.inception import InceptionV3Features, unbiased_logits

    extractor = InceptionV3Features()  # random weights: only the arithmetic is under test
    pool3 = np.random.default_rng(0).normal(size=(4, 2048)).astype(np.float32)
    logits = unbiased_logits(extractor, pool3)
    assert logits.shape == (4, 1008)
    assert torch.allclose(logits, extractor.net.fc(torch.from_numpy(pool3)) - extractor.net.fc.bias, atol=1e-4)
