import pytest
import torch
from torch import nn

from augment_gan.nets import Generator, NetConfig
from augment_gan.training.ema import EMA, recalibrate_batchnorm


def test_ema_update_is_the_exponential_average() -> None:
    model = nn.Linear(2, 1, bias=False)
    nn.init.constant_(model.weight, 0.0)
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)
    ema.update(model)
    # 0 -> 0.1 -> 0.19
    assert ema.shadow.weight.flatten().tolist() == pytest.approx([0.19, 0.19])
    assert not ema.shadow.weight.requires_grad


def test_ema_rejects_bad_decay() -> None:
    with pytest.raises(ValueError):
        EMA(nn.Linear(1, 1), decay=1.0)


def test_recalibration_is_deterministic_and_leaves_global_rng_alone() -> None:
    cfg = NetConfig(num_classes=3, latent_dim=8, g_width=4)
    torch.manual_seed(0)
    G = Generator(cfg)
    state = torch.get_rng_state()
    recalibrate_batchnorm(G, 3, 8, batches=2, batch_size=4, seed=5)
    first = G.bn0.bn.running_mean.clone()
    assert torch.equal(torch.get_rng_state(), state)
    assert not G.training
    recalibrate_batchnorm(G, 3, 8, batches=2, batch_size=4, seed=5)
    assert torch.equal(G.bn0.bn.running_mean, first)
    assert first.abs().sum() > 0
