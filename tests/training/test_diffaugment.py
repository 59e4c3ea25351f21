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


def _centre(img: torch.Tensor) -> torch.Tensor:
    """Centre of mass (row, column) of a non-negative image."""
    rows, cols = torch.meshgrid(torch.arange(img.shape[0]), torch.arange(img.shape[1]), indexing="ij")
    return torch.stack([(img * rows).sum(), (img * cols).sum()]) / img.sum()


def test_affine_and_elastic_without_strength_are_the_identity() -> None:
    from augment_gan.training.diffaugment import rand_affine, rand_elastic

    x = torch.randn(3, 1, 16, 16)
    assert torch.allclose(rand_affine(x, degrees=0, translate=0, scale=(1, 1)), x, atol=1e-5)
    assert torch.allclose(rand_elastic(x, alpha=0), x, atol=1e-5)


def test_affine_moves_a_digit_by_at_most_its_shift_and_keeps_its_ink() -> None:
    from augment_gan.training.diffaugment import rand_affine

    g = torch.Generator().manual_seed(0)
    x = torch.zeros(32, 1, 32, 32)
    x[:, :, 12:20, 14:18] = 1.0  # a bar at the centre, (15.5, 15.5)
    out = rand_affine(x, g)
    moved = torch.stack([_centre(img) for img in out[:, 0]]) - 15.5
    # shift <= 10 % of 32 px = 3.2 px per axis; rotation and zoom about the centre add ~nothing
    assert moved.abs().max() <= 3.2 + 0.5 and moved.abs().max() > 0.5
    ink = out.flatten(1).sum(1) / x.flatten(1).sum(1)
    assert ((ink > 0.75) & (ink < 1.3)).all()  # zoom 0.9-1.1 scales the area by 0.81-1.21
    assert out.min() >= 0 and out.max() <= 1  # bilinear: no overshoot; the border stays black


def test_elastic_displaces_by_a_few_pixels_locally_and_is_differentiable() -> None:
    from augment_gan.training.diffaugment import rand_elastic

    g = torch.Generator().manual_seed(0)
    x = torch.zeros(16, 1, 28, 28, requires_grad=True)
    with torch.no_grad():
        x[:, :, 13:15, 13:15] = 1.0
    out = rand_elastic(x, g)
    moved = torch.stack([_centre(img) for img in out[:, 0].detach()]) - 13.5
    assert moved.abs().max() < 4 and moved.abs().max() > 0.05
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_classic_ops_draw_from_the_generator_given_and_shard_like_the_rest() -> None:
    from augment_gan.training.diffaugment import rand_affine, rand_elastic

    x = torch.randn(4, 1, 16, 16)
    for op in (rand_affine, rand_elastic):
        a = op(x, torch.Generator().manual_seed(1))
        assert torch.equal(a, op(x, torch.Generator().manual_seed(1)))
        # rank 1 of 2, on its half of an 8-image batch, draws what the single process drew for rows 4-7
        whole = op(torch.cat([x, x]), torch.Generator().manual_seed(1))
        assert torch.allclose(op(x, torch.Generator().manual_seed(1), (1, 2)), whole[4:], atol=1e-6)
