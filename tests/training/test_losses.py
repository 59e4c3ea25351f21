import math

import pytest
import torch

from augment_gan.training.losses import LOSSES, get_loss, gradient_penalty

REAL = torch.tensor([2.0, 0.5, -1.0])
FAKE = torch.tensor([-2.0, 0.0, 1.5])


def test_hinge_matches_formula() -> None:
    loss = get_loss("hinge")
    # D: mean(relu(1 - r)) + mean(relu(1 + f)) = (0 + .5 + 2)/3 + (0 + 1 + 2.5)/3
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(2.5 / 3 + 3.5 / 3)
    assert loss.g_loss(FAKE).item() == pytest.approx(-(-2.0 + 0.0 + 1.5) / 3)


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_non_saturating_matches_formula() -> None:
    loss = get_loss("ns")
    expected_d = sum(_softplus(-r) for r in REAL.tolist()) / 3 + sum(_softplus(f) for f in FAKE.tolist()) / 3
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.g_loss(FAKE).item() == pytest.approx(sum(_softplus(-f) for f in FAKE.tolist()) / 3, rel=1e-6)


def test_label_smoothing_targets_point_nine() -> None:
    loss = get_loss("ns", label_smoothing=0.1)
    # BCE with target .9: .9 * softplus(-r) + .1 * softplus(r)
    expected_real = sum(0.9 * _softplus(-r) + 0.1 * _softplus(r) for r in REAL.tolist()) / 3
    expected_d = expected_real + sum(_softplus(f) for f in FAKE.tolist()) / 3
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)


def test_wgan_matches_formula() -> None:
    loss = get_loss("wgan-gp")
    assert loss.uses_gradient_penalty
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(FAKE.mean().item() - REAL.mean().item())
    assert loss.g_loss(FAKE).item() == pytest.approx(-FAKE.mean().item())


def test_lsgan_matches_formula() -> None:
    loss = get_loss("lsgan")
    expected_d = 0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE**2).mean()
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(expected_d.item())
    assert loss.g_loss(FAKE).item() == pytest.approx((0.5 * (FAKE - 1) ** 2).mean().item())


def test_gradient_penalty_of_a_linear_critic_is_known() -> None:
    # D(x) = <w, x> has gradient w everywhere: the penalty is (||w|| - 1)^2 exactly.
    w = torch.full((1, 2, 2), 1.0)  # ||w|| = 2
    critic = lambda x, y: (x * w).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2)
    gp = gradient_penalty(critic, real, fake, torch.zeros(4, dtype=torch.long))
    assert gp.item() == pytest.approx(1.0)


def test_every_listed_loss_resolves_and_unknown_fails() -> None:
    assert {get_loss(name).name for name in LOSSES} == set(LOSSES)
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("wasserstein")


def test_mode_seeking_penalty_matches_formula_and_punishes_ignoring_z() -> None:
    from augment_gan.training.losses import mode_seeking_penalty

    z = torch.tensor([[0.0, 0.0], [1.0, 3.0]])  # rows 0 and 1 are a pair: mean |dz| = 2
    varied = torch.tensor([[0.0, 0.0], [0.5, 0.5]]).view(2, 1, 1, 2)  # mean |dG| = 0.5
    assert mode_seeking_penalty(varied, z, half=1).item() == pytest.approx(1 / (0.5 / 2 + 1e-5))
    collapsed = torch.zeros(2, 1, 1, 2)  # G ignored z: same image for both
    assert mode_seeking_penalty(collapsed, z, half=1).item() == pytest.approx(1e5)


def test_lecam_penalty_and_topk_fraction() -> None:
    from augment_gan.training.losses import lecam_penalty, topk_fraction

    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    # reals above the fakes' mean (0.5): (1.5)^2 and 0; fakes below the reals' mean (1): 2^2 and 0
    assert lecam_penalty(real, fake, torch.tensor(1.0), torch.tensor(0.5)).item() == pytest.approx(1.5**2 / 2 + 4 / 2)
    assert lecam_penalty(real, fake, torch.tensor(-5.0), torch.tensor(5.0)).item() == 0.0
    assert [topk_fraction(0.5, s, 10) for s in (0, 5, 10, 20)] == [1.0, 0.75, 0.5, 0.5]
