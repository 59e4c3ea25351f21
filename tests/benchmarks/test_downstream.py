"""Fast checks of the downstream benchmark's pieces: its datasets' splits, the classifier, the
paired comparisons and the experiments as data (the benchmark itself runs in test_quick_runs)."""

import numpy as np
import pytest

from benchmarks import classifier, compare, datasets, downstream, mnist
from benchmarks.common import DEFAULT_MNIST


@pytest.fixture(scope="module")
def photos():
    from sklearn.datasets import load_sample_images

    return list(load_sample_images().images)


# --- datasets -----------------------------------------------------------------------------
def test_mnist_split_is_disjoint_seeded_and_imbalanced():
    labels = np.repeat(np.arange(10), 900)
    a = mnist.make_split(labels, 400, 15, 100, 300, seed=0)
    assert a == mnist.make_split(labels, 400, 15, 100, 300, seed=0)
    for d in range(10):
        parts = [set(a[p][d]) for p in ("train", "val", "test")]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert all(labels[i] == d for p in parts for i in p)
        assert len(parts[0]) == (15 if d in mnist.MINORITY else 400)
        assert (len(parts[1]), len(parts[2])) == (100, 300)


def test_reads_mnist_when_present():
    if not (DEFAULT_MNIST / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("MNIST t10k not available")
    images, labels = mnist.load_mnist(DEFAULT_MNIST)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert sorted(set(labels.tolist())) == list(range(10))


def test_digits_split_is_disjoint_seeded_and_has_the_documented_counts():
    images, labels = datasets.digits_images()
    a = datasets.make_digits_split(labels, seed=0)
    assert a == datasets.make_digits_split(labels, seed=0)
    assert a != datasets.make_digits_split(labels, seed=1)
    assert datasets.DIGITS_MINORITY == {7: 20, 8: 15, 9: 10}
    for d in range(10):
        train, val, test = (set(a[p][d]) for p in ("train", "val", "test"))
        assert not (train & val or train & test or val & test)
        assert all(labels[i] == d for part in (train, val, test) for i in part)
        assert (len(val), len(test)) == (30, 50)
        assert len(train) == datasets.DIGITS_MINORITY.get(d, int((labels == d).sum()) - 80)
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8


def test_digits_train_files_are_the_ones_write_digits_folder_writes(tmp_path):
    from PIL import Image

    from augment_gan.data.digits import write_digits_folder

    images, labels = datasets.digits_images()
    train = datasets.make_digits_split(labels, seed=0)["train"]
    datasets.write_digits_split(tmp_path / "ours", images, {d: train[d] for d in (0, 9)})
    write_digits_folder(tmp_path / "demo", minority={})  # every image, as the demo's folder writes them
    for d in (0, 9):
        ours = sorted((tmp_path / "ours" / str(d)).glob("*.png"))
        assert len(ours) == len(train[d])
        for f in ours:
            theirs = tmp_path / "demo" / str(d) / f.name
            assert np.array_equal(np.asarray(Image.open(f)), np.asarray(Image.open(theirs)))
            assert Image.open(f).mode == Image.open(theirs).mode == "L"


def test_rgb_split_areas_never_overlap(photos):
    for photo in photos:
        areas = datasets.split_areas(photo.shape)
        boxes = [(part, a) for part in areas for a in areas[part]]
        for i, (p1, (t1, b1, l1, r1)) in enumerate(boxes):
            assert b1 - t1 >= datasets.CROP and r1 - l1 >= datasets.CROP
            for p2, (t2, b2, l2, r2) in boxes[i + 1 :]:
                assert t1 >= b2 or t2 >= b1 or l1 >= r2 or l2 >= r1, (p1, p2)


def test_rgb_crops_are_64x64x3_from_their_split_area_with_the_full_preset_counts(photos):
    counts = downstream.PRESETS["full"]["rgb"]["sizes"]
    assert counts == {"train_major": 300, "train_minor": 15, "val": 60, "test": 150}
    crops = datasets.make_rgb_crops(photos, counts, seed=0)
    n_strips = {part: len(s) for part, s in datasets.STRIPS.items()}
    for part, by_class in crops.items():
        assert sorted(by_class) == list(range(6))
        for c, (images, boxes) in by_class.items():
            name = datasets.RGB_CLASSES[c]
            minor = "train_minor" if name in datasets.RGB_MINORITY else "train_major"
            assert images.shape == (counts[part] if part != "train" else counts[minor], 64, 64, 3)
            photo = photos[c // 3]
            band = c % 3
            areas = datasets.split_areas(photo.shape)[part][band * n_strips[part] : (band + 1) * n_strips[part]]
            for img, (y, x) in zip(images, boxes):
                assert any(t <= y and y + 64 <= b and le <= x and x + 64 <= r for t, b, le, r in areas)
                assert np.array_equal(img, photo[y : y + 64, x : x + 64])
    again = datasets.make_rgb_crops(photos, counts, seed=0)
    assert all(np.array_equal(crops[p][c][1], again[p][c][1]) for p in crops for c in crops[p])
    other = datasets.make_rgb_crops(photos, counts, seed=1)
    assert not np.array_equal(crops["test"][0][1], other["test"][0][1])


# --- the classifier -----------------------------------------------------------------------
@pytest.mark.parametrize("name, side, channels", [("mnist", 28, 1), ("digits", 8, 1), ("rgb", 32, 3)])
def test_classifier_inputs_and_net_fit_each_dataset(name, side, channels):
    import torch
    from PIL import Image

    inp = datasets.DATASETS[name].input
    for aug in ("none", "affine", "affine+elastic", "flip+trivial"):
        x = classifier.transforms_for(inp, aug)(Image.new("RGB", (inp.image_size,) * 2, (200, 100, 50)))
        assert x.shape == (channels, side, side) and -1 <= x.min() and x.max() <= 1
    net = classifier.make_cnn(inp.channels, inp.clf_size, len(inp.classes), inp.clf_width)
    assert net(torch.zeros(2, channels, side, side)).shape == (2, len(inp.classes))


def test_elastic_field_is_simards_on_28x28_and_scaled_at_other_sides():
    assert classifier.elastic_for(28) == {"alpha": 34.0, "sigma": 4.0}
    assert classifier.elastic_for(8) == pytest.approx({"alpha": 34.0 * (8 / 28) ** 2, "sigma": 4.0 * 8 / 28})


def test_natural_weights_give_classes_their_real_mass_and_keep_the_synthetic_share():
    import torch

    # class 0: 3 real; class 1: 1 real + 1 synthetic at share 0.5 (BalancedDataset's weights: 1/2 per class)
    targets = [0, 0, 0, 1, 1]
    balanced = torch.tensor([1 / 6, 1 / 6, 1 / 6, 0.25, 0.25], dtype=torch.float64)
    w = classifier.natural_weights(balanced, targets, [3, 1] + [0] * 8)
    prior = classifier.class_prior(w, targets, 10)
    assert prior[:2].tolist() == pytest.approx([0.75, 0.25]) and prior[2:].sum() == 0
    assert (w[4] / w[3:].sum()).item() == pytest.approx(0.5)  # the synthetic share within class 1


def test_scores_are_per_class_and_minority_recall_is_their_mean():
    import torch

    class Fixed(torch.nn.Module):  # predicts class 0 for everything
        def forward(self, x):
            return torch.nn.functional.one_hot(torch.zeros(len(x), dtype=torch.long), 6).float()

    m = classifier.evaluate_clf(Fixed(), torch.zeros(4, 1), torch.tensor([0, 0, 2, 5]), 6, [0, 2])
    assert m["minority_recall"] == pytest.approx(0.5) and len(m["recall_per_class"]) == 6


# --- comparisons --------------------------------------------------------------------------
def test_paired_difference_is_the_librarys_t_interval():
    d = compare.paired_difference([0.92, 0.94, 0.93, 0.95, 0.91], [0.90, 0.91, 0.90, 0.92, 0.89])
    diffs = [0.02, 0.03, 0.03, 0.03, 0.02]
    assert d["n"] == 5 and d["mean"] == pytest.approx(np.mean(diffs))
    half = 2.776 * np.std(diffs, ddof=1) / np.sqrt(5)  # t(0.975, 4), as augment_gan.evaluation.utility.T95
    assert d["ci95"] == pytest.approx([np.mean(diffs) - half, np.mean(diffs) + half], rel=1e-9)
    assert d["significant"] and compare.effect(d) == "helps"
    tie = compare.paired_difference([0.90, 0.92, 0.91], [0.91, 0.91, 0.91])
    assert tie["ci95"][0] < 0 < tie["ci95"][1] and compare.effect(tie) == "tie"
    with pytest.raises(ValueError, match="same seeds"):
        compare.paired_difference([0.9], [0.9, 0.8])


def test_c_plus_is_picked_on_validation_never_test():
    def runs(val: float, test: float) -> list[dict]:
        return [{"val": {"macro_f1": val}, "test": {"macro_f1": test}}] * 2

    table = {"c": runs(0.90, 0.99), "c-elastic": runs(0.95, 0.80), "la": runs(0.93, 0.99), "a": runs(0.99, 0.99)}
    assert compare.pick_c_plus(table, datasets.DATASETS["mnist"].c_plus_from) == "c-elastic"


def test_agreement_sets_the_verdict_beside_each_small_class_recall_change():
    def runs(recall_3: list[float], recall_8: list[float]) -> list[dict]:
        return [
            {"test": {"recall_per_class": [0.9] * 3 + [r3] + [0.9] * 4 + [r8] + [0.9]}}
            for r3, r8 in zip(recall_3, recall_8)
        ]

    table = {"c": runs([0.5, 0.6, 0.55], [0.7, 0.7, 0.8]), "f25*@c": runs([0.6, 0.7, 0.66], [0.5, 0.52, 0.61])}
    verdicts = {"3": {"passed": True, "reasons": []}, "8": {"passed": True, "reasons": []}}
    idx = {str(d): d for d in range(10)}
    out = compare.agreement(verdicts, table, ["3", "8"], idx, [("f25*@c", "c"), ("f25@c", "c")])
    assert out["candidate"] == "f25*@c" and out["classes"]["3"]["effect"] == "helps"
    assert out["classes"]["8"]["effect"] == "hurts" and out["counts"] == {"pass/helps": 1, "pass/hurts": 1}
    assert compare.agreement(verdicts, {"c": table["c"]}, ["3"], idx, [("f25@c", "c")]) == {"candidate": None}


# --- the experiments as data --------------------------------------------------------------
def test_every_preset_names_known_recipes_and_uses_and_a_size_for_its_dataset():
    for preset, by_data in downstream.PRESETS.items():
        assert set(by_data) == set(datasets.DATASETS), preset
        for name, budget in by_data.items():
            assert set(budget["recipes"]) <= set(downstream.RECIPES) and downstream.BASELINE in budget["recipes"]
            assert set(budget["uses"]) <= set(downstream.USES)
            assert set(datasets.DATASETS[name].c_plus_from) <= set(downstream.RECIPES)


def test_each_use_runs_with_each_model_on_c_and_c_plus():
    models = [("", "gated-dir", "gated"), ("*", "bypassed-dir", "GATE BYPASSED")]
    out = downstream.gan_strategies(("e", "f25", "f25ns"), models, c_plus="la")
    assert sorted(out) == sorted(
        ["e", "e*", "f25@c", "f25@la", "f25ns@c", "f25ns@la", "f25*@c", "f25*@la"] + ["f25ns*@c", "f25ns*@la"]
    )
    assert out["f25*@la"]["model"] == "bypassed-dir" and out["f25*@la"]["loss"] == "la"
    assert out["f25ns@c"]["select"] is False and out["e"]["folder"] == "e" and out["e*"]["base"] == "c"
    one = downstream.gan_strategies(("f25",), models[:1], c_plus="c")  # (c+) = (c): each strategy once
    assert sorted(one) == ["f25@c"]


def test_a_gan_variant_is_one_entry():
    from augment_gan.nets import NetConfig
    from augment_gan.run import TrainConfig

    for variant in downstream.GANS.values():
        TrainConfig(**variant["train"])  # valid TrainConfig fields
        NetConfig(num_classes=2, **variant["net"])  # valid NetConfig fields
