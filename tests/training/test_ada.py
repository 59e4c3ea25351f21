"""Per-class adaptive DiffAugment: p follows each class's r = E[sign D(real)], and only the
classes with p > 0 get augmented."""

import pytest
import torch

from augment_gan.training.ada import ADA_INTERVAL, ADA_STEP, ClassAdaptiveAugment
from augment_gan.training.diffaugment import NO_SHARD, parse_policy
from augment_gan.training.distributed import Dist


def test_p_rises_only_for_the_class_d_over_fits_and_stays_in_0_1() -> None:
    ada = ClassAdaptiveAugment(3, parse_policy("translation"), 0.6, torch.device("cpu"))
    y = torch.tensor([0, 0, 1, 1])
    for _ in range(3):
        # class 0: D scores every real positive (r = 1 > 0.6); class 1: half (r = 0 < 0.6); class 2 unseen
        ada.observe(torch.tensor([2.0, 1.0, 1.0, -1.0]), y)
        ada.update(Dist())
    assert ada.p.tolist() == pytest.approx([3 * ADA_STEP, 0.0, 0.0])
    ada.p = torch.tensor([0.999, 0.5, 0.0])
    ada.observe(torch.tensor([1.0, 1.0, -1.0, -1.0]), y)
    ada.update(Dist())
    assert ada.p.tolist() == pytest.approx([1.0, 0.5 - ADA_STEP, 0.0])
    assert ADA_INTERVAL >= 1


def test_only_classes_with_p_above_0_are_augmented_and_state_round_trips() -> None:
    ada = ClassAdaptiveAugment(2, parse_policy("cutout"), 0.6, torch.device("cpu"))
    ada.p = torch.tensor([0.0, 1.0])
    x = torch.ones(6, 1, 8, 8)
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    out = ada(x, y, torch.Generator().manual_seed(0), NO_SHARD)
    assert torch.equal(out[:3], x[:3])  # p 0: untouched
    assert all((out[i] == 0).any() for i in range(3, 6))  # p 1: a cut-out square in every image
    ada.observe(torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), y)
    copy = ClassAdaptiveAugment(2, parse_policy("cutout"), 0.6, torch.device("cpu"))
    copy.load_state_dict(ada.state_dict())
    ada.update(Dist())
    copy.update(Dist())
    assert torch.equal(copy.p, ada.p)


def test_target_0_is_plain_diffaugment_and_no_policy_is_the_identity() -> None:
    x = torch.randn(4, 1, 8, 8)
    y = torch.zeros(4, dtype=torch.long)
    plain = ClassAdaptiveAugment(1, parse_policy("translation,cutout"), 0.0, torch.device("cpu"))
    from augment_gan.training.diffaugment import diff_augment

    expected = diff_augment(x, parse_policy("translation,cutout"), torch.Generator().manual_seed(1))
    assert torch.equal(plain(x, y, torch.Generator().manual_seed(1), NO_SHARD), expected)
    assert not plain.adaptive
    none = ClassAdaptiveAugment(1, (), 0.6, torch.device("cpu"))
    assert none(x, y, torch.Generator(), NO_SHARD) is x and not none.adaptive


def test_only_augments_the_listed_classes_always() -> None:
    """``only`` (--diffaugment-below): the listed classes' images always, the others never."""
    ada = ClassAdaptiveAugment(3, parse_policy("cutout"), 0.0, torch.device("cpu"), only=torch.tensor([0, 1, 0]))
    x = torch.ones(6, 1, 8, 8)
    y = torch.tensor([0, 1, 2, 1, 0, 1])
    out = ada(x, y, torch.Generator().manual_seed(0), NO_SHARD)
    for i, label in enumerate(y.tolist()):
        assert (out[i] == 0).any() == (label == 1)
