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
