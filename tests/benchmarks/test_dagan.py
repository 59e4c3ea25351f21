"""The image-conditioned candidate (benchmarks/dagan.py) at toy sizes: it trains on pairs,
checkpoints, samples from the images it is given, and leaves a finished run alone."""

from dataclasses import replace

import numpy as np
import pytest

from tests.benchmarks.helpers import load_benchmark

dagan = load_benchmark("dagan")
TINY = dagan.DaganConfig(steps=4, checkpoint_every=2, batch_size=4, z_dim=4, width=4)


def _images(n_per_class: int, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n_per_class * classes, 28, 28), dtype=np.uint8), np.repeat(
        np.arange(classes), n_per_class
    )


def test_it_checkpoints_every_n_steps_and_samples_from_the_given_images(tmp_path) -> None:
    images, labels = _images(3)
    out = dagan.train(images, labels, TINY, tmp_path / "g")
    assert dagan.checkpoints(out) == [2, 4]
    sources = images[:2]
    x = dagan.sample(out, 4, sources, 6, seed=1)
    assert x.shape == (6, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(x, dagan.sample(out, 4, sources, 6, seed=1))  # seeded
    assert not np.array_equal(x, dagan.sample(out, 4, sources, 6, seed=2))  # fresh noise per seed
    assert dagan.DaganConfig.from_dict(TINY.to_dict()) == TINY


def test_rotations_make_each_class_four(tmp_path, monkeypatch) -> None:
    images, labels = _images(2)
    seen = []
    real = dagan._to_tensor
    monkeypatch.setattr(dagan, "_to_tensor", lambda x: seen.append(x) or real(x))
    dagan.train(images, labels, replace(TINY, rotations=True), tmp_path / "g")
    np.testing.assert_array_equal(seen[0][len(images) : 2 * len(images)], np.rot90(images, 1, axes=(1, 2)))
    assert len(seen[0]) == 4 * len(images)


def test_a_finished_run_is_left_alone(tmp_path) -> None:
    images, labels = _images(3)
    out = dagan.train(images, labels, TINY, tmp_path / "g")
    before = (out / "step-4.pt").stat().st_mtime_ns
    dagan.train(images, labels, TINY, out)
    assert (out / "step-4.pt").stat().st_mtime_ns == before


def test_a_class_of_one_image_makes_no_pair(tmp_path) -> None:
    images, labels = _images(1)
    with pytest.raises(ValueError, match="at least 2 images"):
        dagan.train(images, labels, TINY, tmp_path / "g")


def test_the_complementarity_benchmark_trains_it_on_the_big_classes_only(tmp_path, monkeypatch) -> None:
    """A replicate's dagan never sees a minority digit in training, then samples each minority
    digit from that digit's training images; its curve has a point per checkpoint."""
    comp = load_benchmark("complementarity")
    from benchmarks.common import Clock

    p = comp.PRESETS["quick"]
    images, labels = _images(150, classes=10)
    seen = {}
    real_train, real_sample = dagan.train, dagan.sample

    def train(images, labels, cfg, out):
        seen["labels"] = set(labels.tolist())
        return real_train(images, labels, cfg, out)

    def sample(out, step, sources, n, seed):
        seen.setdefault("sources", []).append(sources)
        return real_sample(out, step, sources, n, seed)

    monkeypatch.setattr(dagan, "train", train)
    monkeypatch.setattr(dagan, "sample", sample)
    rep = comp.run_replicate(0, images, labels, p, tmp_path, Clock(), None, ["dagan"])
    minority = rep["minority"]
    assert seen["labels"] == set(range(10)) - set(minority)
    assert all(len(s) == p["n_minor"] for s in seen["sources"])
    assert [pt["step"] for pt in rep["generators"]["dagan"]["curves"][str(minority[0])]] == [p["gan_steps"]]
    assert rep["generators"]["dagan"]["train"] == dagan.DaganConfig(steps=10, checkpoint_every=10, seed=0).to_dict()
