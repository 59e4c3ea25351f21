"""Fast checks of the utility benchmark's data split (the full benchmark is run by hand)."""

import numpy as np
import pytest

from tests.benchmarks.helpers import load_benchmark


def _bench():
    return load_benchmark("utility")


def test_split_is_disjoint_seeded_and_imbalanced():
    bench = _bench()
    labels = np.repeat(np.arange(10), 900)
    a = bench.make_split(labels, 400, 15, 100, 300, seed=0)
    b = bench.make_split(labels, 400, 15, 100, 300, seed=0)
    assert a == b
    for d in range(10):
        parts = [set(a[p][d]) for p in ("train", "val", "test")]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert all(labels[i] == d for p in parts for i in p)
        assert len(parts[0]) == (15 if d in bench.MINORITY else 400)
        assert (len(parts[1]), len(parts[2])) == (100, 300)


def test_reads_mnist_when_present():
    bench = _bench()
    if not (bench.DEFAULT_MNIST / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("MNIST t10k not available")
    images, labels = bench.load_mnist(bench.DEFAULT_MNIST)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert sorted(set(labels.tolist())) == list(range(10))


def test_paired_difference_ci_from_per_seed_differences():
    bench = _bench()
    d = bench.paired_difference([0.92, 0.94, 0.93, 0.95, 0.91], [0.90, 0.91, 0.90, 0.92, 0.89])
    diffs = [0.02, 0.03, 0.03, 0.03, 0.02]
    assert d["n"] == 5 and d["mean"] == pytest.approx(np.mean(diffs))
    half = 2.776445 * np.std(diffs, ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert d["ci95"] == pytest.approx([np.mean(diffs) - half, np.mean(diffs) + half], rel=1e-5)
    assert d["significant"]
    tie = bench.paired_difference([0.90, 0.92, 0.91], [0.91, 0.91, 0.91])
    assert tie["ci95"][0] < 0 < tie["ci95"][1] and not tie["significant"]
    with pytest.raises(ValueError, match="same seeds"):
        bench.paired_difference([0.9], [0.9, 0.8])


def test_natural_weights_give_classes_their_real_mass_and_keep_the_synthetic_share():
    import torch

    bench = _bench()
    # class 0: 3 real; class 1: 1 real + 1 synthetic at share 0.5 (BalancedDataset's weights: 1/2 per class)
    targets = [0, 0, 0, 1, 1]
    balanced = torch.tensor([1 / 6, 1 / 6, 1 / 6, 0.25, 0.25], dtype=torch.float64)
    real_counts = [3, 1] + [0] * 8
    w = bench.natural_weights(balanced, targets, real_counts)
    prior = bench.class_prior(w, targets)
    assert prior[:2].tolist() == pytest.approx([0.75, 0.25]) and prior[2:].sum() == 0
    assert (w[4] / w[3:].sum()).item() == pytest.approx(0.5)  # the synthetic share within class 1


def test_c_plus_is_picked_on_validation_never_test():
    bench = _bench()

    def runs(val: float, test: float) -> list[dict]:
        return [{"val": {"macro_f1": val}, "test": {"macro_f1": test}}] * 2

    picked = bench.pick_c_plus({"c": runs(0.90, 0.99), "c-elastic": runs(0.95, 0.80), "la": runs(0.93, 0.99)})
    assert picked == "c-elastic"


def test_agreement_sets_the_gate_verdict_beside_each_small_class_recall_change():
    ut = _bench()

    def runs(recall_3: list[float], recall_8: list[float]) -> list[dict]:
        return [
            {"test": {"recall_per_class": [0.9] * 3 + [r3] + [0.9] * 4 + [r8] + [0.9]}}
            for r3, r8 in zip(recall_3, recall_8)
        ]

    table = {
        "c": runs([0.5, 0.6, 0.55], [0.7, 0.7, 0.8]),
        "f25*@c": runs([0.6, 0.7, 0.66], [0.5, 0.52, 0.61]),
    }  # 3 up by ~0.1, 8 down by ~0.19
    gate = {"3": {"passed": True, "reasons": []}, "8": {"passed": True, "reasons": []}}
    out = ut.agreement(gate, table)
    assert out["candidate"] == "f25*@c" and out["classes"]["3"]["effect"] == "helps"
    assert out["classes"]["8"]["effect"] == "hurts" and out["counts"] == {"pass/helps": 1, "pass/hurts": 1}
    assert ut.agreement(gate, {"c": table["c"]}) == {"candidate": None}
