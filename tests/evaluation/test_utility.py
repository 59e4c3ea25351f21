"""The gate's utility check on real digits: samples drawn as another class fail it, real-like
samples do not, and the verdict lands in the gate decision."""

from __future__ import annotations

import statistics

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

from augment_gan.evaluation.utility import UtilityConfig, apply_utility, paired, utility_check

CFG = UtilityConfig(seeds=3, steps=300, batch_size=32, width=8, share=0.5)


def digits(digit: int) -> torch.Tensor:
    data = load_digits()
    images = data.images[data.target == digit]
    images = images[np.random.default_rng(digit).permutation(len(images))]
    up = [
        np.asarray(Image.fromarray((im * 255 / 16).astype(np.uint8)).resize((16, 16), Image.Resampling.BILINEAR))
        for im in images
    ]
    return torch.from_numpy(np.stack(up)[:, None])


@pytest.fixture(scope="module")
def split() -> dict:
    torch.set_num_threads(1)
    per = [digits(d) for d in (0, 1, 7)]
    train = torch.cat([p[:15] for p in per])
    held = torch.cat([p[15:75] for p in per])
    return {
        "train": train,
        "train_labels": torch.arange(3).repeat_interleave(15),
        "held": held,
        "held_labels": torch.arange(3).repeat_interleave(60),
        "spare": [p[75:135] for p in per],
    }


def test_samples_drawn_as_another_class_hurt(split) -> None:
    wrong = {0: split["spare"][2]}  # "0"s that are really 7s
    result = utility_check(split["train"], split["train_labels"], split["held"], split["held_labels"], wrong, 3, CFG)
    entry = result["per_class"][0]
    assert entry["effect"] == "hurts", entry
    assert entry["f1_change"]["ci95"][1] < 0 and entry["n_held_out"] == 60
    assert entry["recall_change"]["mean"] > -0.05  # 0's own recall barely moves: 7s are pulled in (precision)
    assert result["per_class"][1]["effect"] == "untested"


def test_real_like_samples_do_not_hurt(split) -> None:
    good = {0: split["spare"][0], 2: split["spare"][2]}  # new real images of the right class
    result = utility_check(split["train"], split["train_labels"], split["held"], split["held_labels"], good, 3, CFG)
    assert all(result["per_class"][c]["effect"] in ("tie", "helps") for c in (0, 2)), result["per_class"]


def test_a_hurting_class_fails_the_gate_with_the_measured_change() -> None:
    decision = {
        "passed_classes": ["a", "b"],
        "per_class": {"a": {"passed": True, "reasons": []}, "b": {"passed": True, "reasons": []}},
    }
    hurt = {
        "f1_change": {"mean": -0.2, "ci95": [-0.3, -0.1], "n": 3, "significant": True},
        "effect": "hurts",
        "n_held_out": 9,
    }
    result = {
        "per_class": {"a": hurt, "b": {"effect": "untested", "n_held_out": 3, "why": "no synthetic samples added"}}
    }
    out = apply_utility(decision, result)
    assert out["passed_classes"] == ["b"] and out["per_class"]["a"]["passed"] is False
    assert "F1 on held-out real images -0.200 [-0.300, -0.100]" in out["per_class"]["a"]["reasons"][0]
    assert decision["per_class"]["a"]["passed"] is True  # the input is not changed


def test_paired_interval() -> None:
    d = paired([-0.2, -0.1, -0.15])
    assert d["significant"] and d["ci95"][1] < 0
    assert paired([0.2])["ci95"] is None


def test_paired_interval_beyond_the_table_uses_the_t_quantile() -> None:
    differences = [0.01 * (k % 4) for k in range(12)]  # 11 degrees of freedom: not in T95
    d = paired(differences)
    half = (d["ci95"][1] - d["ci95"][0]) / 2
    assert half == pytest.approx(2.200985 * statistics.stdev(differences) / 12**0.5, rel=1e-6)
