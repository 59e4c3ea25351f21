"""Fast checks of the quality benchmark's pieces: its split and summaries (``testset``), its
variants and grids (the benchmark itself is run by hand)."""

import math

import numpy as np
import pytest

from benchmarks import grids, quality, testset
from benchmarks.mnist import MINORITY


def _bench():
    return testset


def test_split_is_disjoint_seeded_and_imbalanced():
    bench = _bench()
    labels = np.repeat(np.arange(10), 900)
    a = bench.quality_split(labels, 500, 25, 300, seed=0)
    assert a == bench.quality_split(labels, 500, 25, 300, seed=0)
    assert a != bench.quality_split(labels, 500, 25, 300, seed=1)
    assert set(a) == {"train", "test"}
    for d in range(10):
        train, test = set(a["train"][d]), set(a["test"][d])
        assert not train & test
        assert all(labels[i] == d for i in train | test)
        assert len(train) == (25 if d in MINORITY else 500)
        assert len(test) == 300


def test_split_refuses_a_class_too_small():
    bench = _bench()
    with pytest.raises(SystemExit):
        bench.quality_split(np.repeat(np.arange(10), 100), 500, 25, 300, seed=0)


def test_group_means_split_majority_and_minority_and_skip_none():
    bench = _bench()
    per_class = {str(d): {"fid": float(d), "coverage": None if d == 8 else 0.5} for d in range(10)}
    g = bench.group_means(per_class, minority=(3, 8), metrics=("fid", "coverage"))
    assert g["minority"]["classes"] == ["3", "8"] and len(g["majority"]["classes"]) == 8
    assert g["minority"]["fid"] == pytest.approx(5.5)
    assert g["majority"]["fid"] == pytest.approx((45 - 11) / 8)
    assert g["all"]["fid"] == pytest.approx(4.5)
    assert g["minority"]["coverage"] == pytest.approx(0.5)  # class 8's None is left out
    none = bench.group_means({"3": {"fid": None}}, minority=(3,), metrics=("fid",))
    assert none["minority"]["fid"] is None and none["majority"]["fid"] is None


def test_gate_counts():
    bench = _bench()
    classes = [str(d) for d in range(10)]
    assert bench.gate_counts(["0", "1", "3"], classes, minority=(3, 8)) == {"majority": "2/8", "minority": "1/2"}


def test_variants_differ_from_the_defaults_only_in_their_ablation():
    bench = quality
    from augment_gan.run import TrainConfig

    defaults = TrainConfig().to_dict()
    budget = {"steps": 700, "checkpoint_every": 350, "seed": 0}
    assert {"default", "diffaugment", "n-critic-2", "no-ema"} <= set(bench.VARIANTS)
    for name, ablation in bench.VARIANTS.items():
        train = {k: v for k, v in ablation.items() if k not in bench.NET_OPTIONS}
        cfg = bench.variant_config(name, 700, 0).to_dict()
        assert {k for k in cfg if cfg[k] != defaults[k]} <= set(budget) | set(train)
        assert all(cfg[k] == v for k, v in {**budget, **train}.items())
        assert bench.variant_net(name) == {**bench.NET, **{k: ablation[k] for k in bench.NET_OPTIONS if k in ablation}}
    assert bench.variant_net("old-default")["minibatch_std"] == "batch"
    assert bench.variant_config("old-default", 700, 0).class_balance == 0.5
    assert bench.variant_config("default", 700, 0).diffaugment == "translation,cutout"
    assert bench.variant_config("no-diffaugment", 700, 0).diffaugment == "none"
    assert bench.variant_config("diffaugment", 700, 0).diffaugment == "color,translation,cutout"
    assert (bench.variant_config("default", 700, 0).n_critic, bench.variant_config("n-critic-2", 700, 0).n_critic) == (
        1,
        2,
    )
    assert math.isclose(bench.variant_config("default", 700, 0).ema_decay, 0.999)


def test_compose_grid_places_fakes_then_reals():
    bench = grids
    fakes = np.full((3, 4, 8, 8), 200, dtype=np.uint8)
    reals = np.full((3, 2, 8, 8), 100, dtype=np.uint8)
    grid = bench.compose_grid(fakes, reals, pad=2, gap=6)
    assert grid.shape == (2 + 3 * 10, 2 + 4 * 10 + 6 + 2 * 10)
    assert grid[2:10, 2:10].min() == 200  # first fake tile
    left_real = 2 + 4 * 10 + 6
    assert (grid[2:10, left_real : left_real + 8] == 100).all()  # first real tile
    assert (grid == 200).sum() == 3 * 4 * 64 and (grid == 100).sum() == 3 * 2 * 64
