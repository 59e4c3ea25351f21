"""Fast checks of utility_check's data splits and helpers (the benchmark itself is run by hand)."""

import numpy as np
import pytest

from tests.benchmarks.helpers import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("utility_check")


@pytest.fixture(scope="module")
def photos():
    from sklearn.datasets import load_sample_images

    return list(load_sample_images().images)


def test_digits_split_is_disjoint_seeded_and_has_the_documented_counts(bench):
    images, labels = bench.digits_images()
    a = bench.make_digits_split(labels, seed=0)
    assert a == bench.make_digits_split(labels, seed=0)
    assert a != bench.make_digits_split(labels, seed=1)
    assert bench.DIGITS_MINORITY == {7: 20, 8: 15, 9: 10}
    for d in range(10):
        train, val, test = (set(a[p][d]) for p in ("train", "val", "test"))
        assert not (train & val or train & test or val & test)
        assert all(labels[i] == d for part in (train, val, test) for i in part)
        assert (len(val), len(test)) == (bench.DIGITS_VAL, bench.DIGITS_TEST) == (30, 50)
        n = int((labels == d).sum())
        assert len(train) == bench.DIGITS_MINORITY.get(d, n - 80)
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8


def test_digits_train_files_are_the_ones_write_digits_folder_writes(bench, tmp_path):
    from PIL import Image

    from augment_gan.data.digits import write_digits_folder

    images, labels = bench.digits_images()
    train = bench.make_digits_split(labels, seed=0)["train"]
    bench.write_digits_split(tmp_path / "ours", images, {d: train[d] for d in (0, 9)})
    write_digits_folder(tmp_path / "demo", minority={})  # every image, as the demo's folder writes them
    for d in (0, 9):
        ours = sorted((tmp_path / "ours" / str(d)).glob("*.png"))
        assert len(ours) == len(train[d])
        for f in ours:
            theirs = tmp_path / "demo" / str(d) / f.name
            assert np.array_equal(np.asarray(Image.open(f)), np.asarray(Image.open(theirs)))
            assert Image.open(f).mode == Image.open(theirs).mode == "L"


def test_rgb_split_areas_never_overlap(bench, photos):
    for photo in photos:
        areas = bench.split_areas(photo.shape)
        boxes = [(part, a) for part in areas for a in areas[part]]
        for i, (p1, (t1, b1, l1, r1)) in enumerate(boxes):
            assert b1 - t1 >= bench.CROP and r1 - l1 >= bench.CROP
            for p2, (t2, b2, l2, r2) in boxes[i + 1 :]:
                assert t1 >= b2 or t2 >= b1 or l1 >= r2 or l2 >= r1, (p1, p2)


def test_rgb_crops_are_64x64x3_from_their_split_area_with_the_documented_counts(bench, photos):
    crops = bench.make_rgb_crops(photos, seed=0)
    counts = bench.RGB_COUNTS
    assert counts == {"train_major": 300, "train_minor": 15, "val": 60, "test": 150}
    assert set(bench.RGB_MINORITY) <= set(bench.RGB_CLASSES) and len(bench.RGB_CLASSES) == 6
    n_strips = {part: len(s) for part, s in bench.STRIPS.items()}
    for part, by_class in crops.items():
        assert sorted(by_class) == list(range(6))
        for c, (images, boxes) in by_class.items():
            name = bench.RGB_CLASSES[c]
            want = (
                counts[part]
                if part != "train"
                else counts["train_minor" if name in bench.RGB_MINORITY else "train_major"]
            )
            assert images.shape == (want, 64, 64, 3) and images.dtype == np.uint8
            photo = photos[c // 3]
            band = c % 3
            areas = bench.split_areas(photo.shape)[part][band * n_strips[part] : (band + 1) * n_strips[part]]
            for img, (y, x) in zip(images, boxes):
                assert any(t <= y and y + 64 <= b and le <= x and x + 64 <= r for t, b, le, r in areas)
                assert np.array_equal(img, photo[y : y + 64, x : x + 64])
    # train and test crops of a class never share a pixel: the areas are disjoint (above), and
    # every crop lies inside one of its split's areas
    again = bench.make_rgb_crops(photos, seed=0)
    assert all(np.array_equal(crops[p][c][1], again[p][c][1]) for p in crops for c in crops[p])
    other = bench.make_rgb_crops(photos, seed=1)
    assert not np.array_equal(crops["test"][0][1], other["test"][0][1])


def test_classifier_inputs_and_net_fit_each_dataset(bench):
    import torch
    from PIL import Image

    for dataset, side, channels in (("digits", 8, 1), ("rgb", 32, 3)):
        spec = bench.DATASETS[dataset]
        size = spec["image_size"]
        for aug in ("none", "affine", "affine+elastic", "flip+trivial"):
            x = bench.transforms_for(spec, aug)(Image.new("RGB", (size, size), (200, 100, 50)))
            assert x.shape == (channels, side, side) and -1 <= x.min() and x.max() <= 1
        net = bench.make_cnn(spec["channels"], spec["clf_size"], len(spec["classes"]), spec["clf_width"])
        assert net(torch.zeros(2, channels, side, side)).shape == (2, len(spec["classes"]))


def test_class_prior_and_minority_recall_are_generic(bench):
    import torch

    prior = bench.class_prior(torch.tensor([1.0, 1.0, 2.0, 4.0]), [0, 0, 1, 5], 6)
    assert prior.tolist() == pytest.approx([0.25, 0.25, 0, 0, 0, 0.5])

    class Fixed(torch.nn.Module):  # predicts class 0 for everything
        def forward(self, x):
            return torch.nn.functional.one_hot(torch.zeros(len(x), dtype=torch.long), 6).float()

    y = torch.tensor([0, 0, 2, 5])
    m = bench.evaluate_clf(Fixed(), torch.zeros(4, 1), y, 6, [0, 2])
    assert m["minority_recall"] == pytest.approx(0.5) and len(m["recall_per_class"]) == 6


def test_c_plus_is_picked_on_validation_never_test(bench):
    def runs(val: float, test: float) -> list[dict]:
        return [{"val": {"macro_f1": val}, "test": {"macro_f1": test}}] * 2

    picked = bench.pick_c_plus(
        {"c": runs(0.90, 0.99), "c-trivial": runs(0.95, 0.80), "la": runs(0.93, 0.99)}, bench.classic_keys("rgb")
    )
    assert picked == "c-trivial"
    assert bench.classic_keys("digits") == ["c", "c-elastic", "la"]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("dataset", ["digits", "rgb"])
def test_quick_run_writes_its_json(dataset, tmp_path):
    """The script still runs end to end (figures of a --quick run mean nothing)."""
    import json
    import subprocess
    import sys

    from tests.benchmarks.helpers import BENCHMARKS

    proc = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "utility_check.py"),
            "--quick",
            "--data",
            dataset,
            "--out-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=580,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((tmp_path / f"utility-{dataset}-quick.json").read_text())
    assert result["dataset"] == dataset and result["strategies"] and "c_plus" in result
