import pytest
import torch

from augment_gan.nets import Discriminator, Generator, NetConfig
from augment_gan.training.long_tail import (
    class_weights,
    fold,
    group_spectral_penalty,
    transition_weight,
)


def test_class_weights_follow_the_inverse_effective_number_and_average_one() -> None:
    w = class_weights(torch.tensor([400, 400, 5]), beta=0.999)
    effective = [(1 - 0.999**n) / (1 - 0.999) for n in (400, 400, 5)]
    assert w.mean().item() == pytest.approx(1.0)
    assert (w[2] / w[0]).item() == pytest.approx(effective[0] / effective[2], rel=1e-5)  # ~66x
    assert class_weights(torch.tensor([0, 1]))[0] == class_weights(torch.tensor([0, 1]))[1]  # empty counts as one


@pytest.mark.parametrize(("features", "shape"), [(64, (8, 8)), (32, (4, 8)), (48, (6, 8)), (7, (1, 7))])
def test_fold_is_the_most_nearly_square_factorisation(features, shape) -> None:
    assert fold(features) == shape


def test_group_spectral_penalty_is_the_weighted_mean_of_squared_top_singular_values() -> None:
    g = torch.Generator().manual_seed(0)
    gain, shift = torch.randn(3, 32, generator=g), torch.randn(3, 32, generator=g)
    weights = torch.tensor([0.5, 0.5, 2.0])
    expected = sum(
        weights[c] * (torch.linalg.svdvals(v[c].reshape(4, 8))[0] ** 2) for v in (gain, shift) for c in range(3)
    ) / (1 * 3)
    assert group_spectral_penalty([(gain, shift)], weights).item() == pytest.approx(expected.item(), rel=1e-5)


def test_transition_weight_is_zero_then_rises_to_one() -> None:
    assert [transition_weight(0.0, s, 100) for s in (0, 50)] == [1.0, 1.0]  # off
    assert [transition_weight(0.4, s, 100) for s in (0, 20, 30, 40, 90)] == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_class_affines_are_what_the_embedding_adds_to_each_conditional_bn() -> None:
    cfg = NetConfig(num_classes=3, latent_dim=16, g_width=4)
    G = Generator(cfg)
    with torch.no_grad():
        for p in G.parameters():
            p.normal_()
    affines = G.class_affines()
    assert len(affines) == 1 + len(G.blocks)
    bn = G.blocks[0].bn
    size = bn.gain.weight.shape[1] - G.embed_dim  # its z slice
    cond = torch.cat([torch.zeros(3, size), G.embed.weight], dim=1)  # z = 0: the class's share alone
    assert torch.allclose(affines[1][0], bn.gain(cond), atol=1e-5)
    assert torch.allclose(affines[1][1], bn.bias(cond), atol=1e-5)
    penalty = group_spectral_penalty(affines, torch.ones(3))
    penalty.backward()
    assert G.embed.weight.grad.abs().sum() > 0 and G.fc.weight.grad is None  # only the conditioning moves


def test_class_noise_moves_samples_and_none_changes_nothing() -> None:
    G = Generator(NetConfig(num_classes=3, latent_dim=16, g_width=4)).eval()
    z, y = torch.randn(4, 16), torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        plain = G(z, y)
        assert torch.equal(G(z, y, None), plain)
        assert not torch.allclose(G(z, y, torch.ones(4, G.embed_dim)), plain)


def test_discriminator_heads_are_the_class_free_score_and_the_conditional_one() -> None:
    D = Discriminator(NetConfig(num_classes=3, d_width=4)).eval()
    x, y = torch.randn(4, 1, 32, 32), torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        free, cond = D(x, y, heads=True)
        assert torch.allclose(cond, D(x, y))
        free_other, _ = D(x, torch.tensor([1, 2, 0, 1]), heads=True)
    assert torch.allclose(free, free_other)  # the class-free score ignores the label
    assert not torch.allclose(free, cond)
