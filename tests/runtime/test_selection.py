"""Per-sample selection on real digits: held-out real images pass, bad samples fail for the
right reason, and the consumers' streams stay deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from augment_gan.contracts.model_dir import SELECTION_NAME, ModelError
from augment_gan.contracts.selection import SUPPORT_QUANTILE, copy_ratios, nearest_other, realism, support_radii
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.runtime.latents import sample_latents
from augment_gan.runtime.selection import SampleSelector
from tests.export.helpers import N_TRAIN, digits_32, make_selector, write_selecting_model


@pytest.fixture(scope="module")
def digits_selector() -> tuple[SampleSelector, list[np.ndarray], list[np.ndarray]]:
    torch.set_num_threads(1)
    images = [digits_32(d) for d in (0, 1, 2)]
    selector, held_out = make_selector(images)
    return selector, [im[:N_TRAIN] for im in images], held_out


# --- the arithmetic ------------------------------------------------------------------
def test_support_threshold_lets_through_new_points_of_the_same_distribution() -> None:
    rng = np.random.default_rng(0)
    support = rng.standard_normal((60, 8))
    radius, tau = support_radii(support)
    new = realism(rng.standard_normal((2000, 8)), support, radius)
    far = realism(rng.standard_normal((200, 8)) + 6.0, support, radius)
    # tau is the 5th percentile of the real points' own leave-one-out realism: new points of
    # the same distribution pass about 1 - SUPPORT_QUANTILE of the time, far ones never
    assert 0.85 <= (new >= tau).mean() <= 0.995
    assert (far >= tau).mean() == 0.0
    assert SUPPORT_QUANTILE == 0.05


def test_support_test_is_off_below_k_plus_two_points() -> None:
    radius, tau = support_radii(np.zeros((4, 3)))
    assert tau == 0.0 and np.isinf(radius).all()


def test_copy_ratios_flag_copies_and_not_fresh_points() -> None:
    rng = np.random.default_rng(1)
    train = rng.standard_normal((50, 16))
    own = nearest_other(train)
    copies = train[:10] + 1e-3 * rng.standard_normal((10, 16))
    assert (copy_ratios(copies, train, own) < 0.5).all()
    assert (copy_ratios(rng.standard_normal((500, 16)), train, own) < 0.5).mean() < 0.05


# --- the verdicts on real digits -------------------------------------------------------
def test_held_out_real_images_are_accepted(digits_selector) -> None:
    selector, _, held_out = digits_selector
    for c, images in enumerate(held_out):
        checks = selector.check(images, np.full(len(images), c))
        assert checks.accepted.mean() >= 0.8, (c, checks.class_ok.mean(), checks.in_support.mean())
        assert (checks.copy_pixels | checks.copy_features).mean() <= 0.04  # nominal 1 % in each space


def test_training_images_are_rejected_as_copies(digits_selector) -> None:
    selector, train, _ = digits_selector
    checks = selector.check(train[1], np.ones(len(train[1])))
    assert checks.copy_pixels.all() and not checks.accepted.any()
    assert all("near-copy of a training image" in r for r in checks.reasons())


def test_another_class_drawn_is_rejected_as_that(digits_selector) -> None:
    selector, _, held_out = digits_selector
    checks = selector.check(held_out[2], np.zeros(len(held_out[2])))  # real 2s offered as 0s
    assert (~checks.class_ok).mean() >= 0.9 and checks.accepted.mean() <= 0.05


def test_noise_is_rejected(digits_selector) -> None:
    selector, _, _ = digits_selector
    noise = np.random.default_rng(2).integers(0, 256, (50, 32, 32, 1), dtype=np.uint8)
    checks = selector.check(noise, np.zeros(50))
    assert not checks.accepted.any()
    assert (~checks.in_support).all()


# --- in a model dir: sha256, determinism, the switch --------------------------------------
@pytest.fixture(scope="module")
def selecting_model(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return write_selecting_model(tmp_path_factory.mktemp("models"))


def test_selection_is_on_by_default_and_keeps_the_stream_deterministic(selecting_model: Path) -> None:
    gen = OnnxGenerator.load(selecting_model)
    assert gen.selecting
    a = gen.samples(1, 5, range(12))
    b = gen.samples(1, 5, list(range(6, 12)), batch_size=3)
    assert np.array_equal(a[6:], b)  # sample j depends on (seed, class, j) only
    assert 0 < gen.stats.accepted < gen.stats.candidates  # some candidates were replaced
    plain = gen.generate_from_latents(sample_latents(5, 1, list(range(12)), gen.latent_dim), np.full(12, 1))
    first_ok = gen.selector.check(plain, np.full(12, 1)).accepted
    assert np.array_equal(a[first_ok], plain[first_ok])  # an accepted first candidate is kept as it is
    assert not np.array_equal(a[~first_ok], plain[~first_ok])
    assert gen.selector.check(a, np.full(12, 1)).accepted.mean() > first_ok.mean()


def test_generate_returns_n_selected_images_and_select_false_turns_it_off(selecting_model: Path) -> None:
    gen = OnnxGenerator.load(selecting_model)
    images = gen.generate("dog", 10, seed=3)
    assert images.shape[0] == 10 and np.array_equal(images, gen.generate("dog", 10, seed=3))
    off = OnnxGenerator.load(selecting_model, select=False)
    plain = off.generate("dog", 10, seed=3)
    assert off.stats.candidates == 0 and not off.selecting
    assert np.array_equal(plain, gen.generate("dog", 10, seed=3, select=False))


def test_a_tampered_reference_is_refused(selecting_model: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(selecting_model, copy)
    data = bytearray((copy / SELECTION_NAME).read_bytes())
    data[-10] ^= 0xFF
    (copy / SELECTION_NAME).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        OnnxGenerator.load(copy)
    OnnxGenerator.load(copy, select=False)  # selection off: the generator alone is checked


def test_a_model_dir_without_a_judge_generates_unselected(model_dir: Path) -> None:
    gen = OnnxGenerator.load(model_dir)
    assert gen.selector is None and not gen.selecting
    assert np.array_equal(gen.generate(0, 4, seed=1), gen.generate_from_latents(gen.latents(4, 1), np.zeros(4)))


def test_the_datasets_draw_the_selected_stream_unless_told_not_to(selecting_model: Path) -> None:
    from augment_gan.runtime.datasets import SyntheticDataset

    gen = OnnxGenerator.load(selecting_model)
    on = SyntheticDataset(selecting_model, per_class={"eel": 6}, seed=2, as_tensor=True)
    off = SyntheticDataset(gen, per_class={"eel": 6}, seed=2, as_tensor=True, select=False)
    assert gen.select  # the loaded generator handed in is not changed
    on_images = np.stack([on[i][0].numpy().transpose(1, 2, 0) for i in range(6)])
    off_images = np.stack([off[i][0].numpy().transpose(1, 2, 0) for i in range(6)])
    assert np.array_equal(on_images, gen.samples(2, 2, range(6)))
    assert np.array_equal(off_images, gen.samples(2, 2, range(6), select=False))
