"""The calibrated gate on real images: bad generators fail for the right reason, real images pass.

A tiny run on real digits (classes of 60, 60 and 15 images), its evaluator (judge and
bands), and "generators" that draw from image banks: fresh real digits the run never saw
(a perfect generator), its training images (copies), one image (collapse), another class.
"""

from __future__ import annotations

import shutil

import pytest
import torch

from augment_gan.data import load_image_folder
from augment_gan.data.digits import write_digits_folder
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import RunEvaluator
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.nets import Generator, NetConfig
from augment_gan.pipeline import train

SIZES = {0: 60, 1: 60, 2: 15}
NET = {"g_width": 4, "d_width": 4, "latent_dim": 8}


class Bank(torch.nn.Module):
    """Draws class y's images from ``banks[y]``, picked by the noise (deterministic)."""

    def __init__(self, banks: dict[int, torch.Tensor]) -> None:
        super().__init__()
        self.banks = {c: images.float() / 127.5 - 1 for c, images in banks.items()}
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # generate_per_class asks for a device

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pick = (z[:, 0].abs() * 1e6).long()
        return torch.stack([self.banks[int(c)][int(p) % len(self.banks[int(c)])] for p, c in zip(pick, y)])


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("gate")
    write_digits_folder(root / "all", minority={c: 0 for c in range(3, 10)})
    for c, keep in SIZES.items():  # the run's folder keeps `keep` images; the rest are fresh
        files = sorted((root / "all" / str(c)).glob("*.png"))
        (root / "data" / str(c)).mkdir(parents=True)
        (root / "fresh" / str(c)).mkdir(parents=True)
        for i, f in enumerate(files):
            shutil.copy(f, root / ("data" if i < keep else "fresh") / str(c) / f.name)
    run_dir = train(
        root / "data",
        "d",
        models_dir=root / "models",
        net=NET,
        train={"steps": 1, "batch_size": 4, "checkpoint_every": 1},
    ).run_dir
    evaluator = RunEvaluator(
        run_dir, EvalConfig(samples_per_class=60, judge_steps=150, kid_subsets=10, band_draws=60), progress=False
    )
    fresh = load_image_folder(root / "fresh", resolution=32, channels=1, progress=False)
    banks = {
        "fresh": {c: fresh.images[fresh.labels == c] for c in SIZES},
        "train": {
            c: evaluator.data.images[evaluator.train_idx][evaluator.data.labels[evaluator.train_idx] == c]
            for c in SIZES
        },
    }
    return evaluator, banks


def _decide(evaluator: RunEvaluator, generator: torch.nn.Module) -> dict:
    net = NetConfig(num_classes=3, resolution=32, channels=1, **NET)
    report = evaluator.evaluate(generator, net, step=1)
    return report, apply_gate(report, GateThresholds())["per_class"]


def _failed(decision: dict) -> set[str]:
    return {reason.split()[0] for reason in decision["reasons"]}


def test_every_class_carries_its_band(setting) -> None:
    evaluator, banks = setting
    report, _ = _decide(evaluator, Bank(banks["fresh"]))
    bands = {name: r["band"] for name, r in report["classes"].items()}
    assert bands["2"]["source"] == "pooled" and bands["2"]["n_reference"] == report["classes"]["2"]["n_reference"]
    assert bands["0"]["source"] == "own, scaled down"  # 60 images cannot stand in for 60 at full size
    assert report["classes"]["2"]["copy_reference"] == "ratio"


def test_fresh_real_images_pass(setting) -> None:
    evaluator, banks = setting
    report, decision = _decide(evaluator, Bank(banks["fresh"]))
    assert all(d["passed"] for d in decision.values()), {c: d["reasons"] for c, d in decision.items()}
    # the judge recognises them, evenly over the 3 classes: its IS nears the class count
    assert all(r["judge_confidence"] > 0.7 for r in report["classes"].values())
    assert 2.0 < report["overall"]["judge_is"] <= 3.0


def test_an_untrained_generator_fails_every_class(setting) -> None:
    evaluator, _ = setting
    torch.manual_seed(0)
    untrained = Generator(NetConfig(num_classes=3, resolution=32, channels=1, **NET))
    report, decision = _decide(evaluator, untrained)
    assert report["overall"]["judge_is"] < 1.5  # noise lands in one class, confidently or not
    for c, d in decision.items():
        assert not d["passed"] and {"kid", "precision"} <= _failed(d), (c, d["reasons"])
    # the judge calls noise one class, so every other class fails consistency too
    assert sum("class_consistency" in _failed(d) for d in decision.values()) >= 2


def test_collapse_copies_and_another_class_fail_for_their_reason(setting) -> None:
    evaluator, banks = setting
    mixed = {
        0: banks["fresh"][0][:1],  # class 0 collapsed to one image
        1: banks["train"][1],  # class 1 returns its training images
        2: banks["fresh"][0],  # class 2 drawn as class 0
    }
    _, decision = _decide(evaluator, Bank(mixed))
    assert "recall" in _failed(decision["0"]), decision["0"]["reasons"]
    assert "copy_rate" in _failed(decision["1"]), decision["1"]["reasons"]
    assert "class_consistency" in _failed(decision["2"]), decision["2"]["reasons"]
    assert not any(d["passed"] for d in decision.values())
