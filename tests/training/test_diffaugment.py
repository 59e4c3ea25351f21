import pytest
import torch

from augment_gan.training.diffaugment import diff_augment, parse_policy, rand_cutout, rand_translation


def test_policy_parsing() -> None:
    assert parse_policy("color,translation,cutout") == ("color", "translation", "cutout")
    assert parse_policy("none") == ()
    assert parse_policy("") == ()
    with pytest.raises(ValueError, match="unknown DiffAugment"):
        parse_policy("color,flip")


def test_empty_policy_is_identity() -> None:
    x = torch.randn(2, 3, 8, 8)
    assert diff_augment(x, ()) is x


def test_augmentation_is_differentiable_and_keeps_shape() -> None:
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    out = diff_augment(x, parse_policy("color,translation,cutout"))
    assert out.shape == x.shape
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_cutout_zeroes_a_square_of_half_the_side() -> None:
    torch.manual_seed(0)
    x = torch.ones(8, 1, 16, 16)
    out = rand_cutout(x)
    zeros = (out == 0).flatten(1).sum(1)
    # an 8x8 hole, clipped at the border: never more than 64 pixels, never none
    assert (zeros <= 64).all() and (zeros > 0).all()


def test_translation_moves_content_by_at_most_an_eighth() -> None:
    torch.manual_seed(0)
    x = torch.zeros(16, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    out = rand_translation(x)
    for img in out[:, 0]:
        r, c = (img == 1).nonzero()[0].tolist()
        assert abs(r - 8) <= 2 and abs(c - 8) <= 2


def test_saturation_leaves_grayscale_alone() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 1, 4, 4)
    from augment_gan.training.diffaugment import rand_saturation

    assert torch.equal(rand_saturation(x), x)
