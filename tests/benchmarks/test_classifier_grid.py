"""The classifier claim's pieces: its split, the grid, the A' stand-in, LDAM-DRW, the re-fit and
the summary over replicates (the benchmark itself runs in test_quick_runs)."""

import json

import numpy as np
import pytest
import torch

from benchmarks import classifier
from benchmarks import classifier_grid as cg

SIZES_REFIT = 3
SIZES = {"n_minor": 5, "n_major": 40, "n_val": 10, "n_test": 20, "clf_steps": 7, "refit_steps": SIZES_REFIT}


# --- split and grid -----------------------------------------------------------------------
def test_replicate_split_is_disjoint_seeded_and_gives_the_oracle_real_images():
    labels = np.repeat(np.arange(10), 100)
    a = cg.replicate_split(labels, 3000, SIZES)
    assert a == cg.replicate_split(labels, 3000, SIZES)
    assert any(cg.replicate_split(labels, s, SIZES)["minority"] != a["minority"] for s in range(3001, 3010))
    for d in range(10):
        parts = [set(a[p][d]) for p in ("train", "val", "test", "oracle")]
        assert sum(map(len, parts)) == len(set().union(*parts))  # disjoint
        assert all(labels[i] == d for part in parts for i in part)
        small = d in a["minority"]
        assert (len(parts[0]), len(parts[3])) == ((5, 35) if small else (40, 0))
        assert (len(parts[1]), len(parts[2])) == (10, 20)


def test_split_refuses_a_digit_too_small():
    with pytest.raises(SystemExit, match="needs"):
        cg.replicate_split(np.repeat(np.arange(10), 50), 0, SIZES)


def test_the_grid_is_every_imbalance_rule_by_augmentation_by_refit():
    assert len(cg.GRID) == 12 == len(set(cg.GRID))
    assert cg.recipe("la/affine+elastic+refit") == (
        {"sampling": "uniform", "loss": "la", "aug": "affine+elastic"},
        True,
    )
    assert cg.recipe("balanced/affine") == ({"sampling": "balanced", "loss": "ce", "aug": "affine"}, False)
    assert {cg.recipe(k)[0]["loss"] for k in cg.GRID} == set(classifier.LOSSES)


# --- A': synthetic slots filled with the class's training images --------------------------
class Real(list):
    """ImageFolder's surface: (image, target) items and ``targets``."""

    def __init__(self, targets):
        super().__init__((f"real{i}", t) for i, t in enumerate(targets))
        self.targets = list(targets)


class FakeBalanced:
    """BalancedDataset's surface: real images of classes 0, 0, 1, 0, 1, then 4 synthetic of
    class 1 and 2 of class 0."""

    def __init__(self) -> None:
        self.real = Real([0, 0, 1, 0, 1])
        self.mark_synthetic = True
        self.targets = self.real.targets + [1, 1, 1, 1, 0, 0]

    def __len__(self):
        return len(self.targets)

    def is_synthetic(self, i):
        return i >= 5

    def __getitem__(self, i):
        return ("GAN", self.targets[i], True) if i >= 5 else (*self.real[i], False)


def test_stand_in_replaces_each_synthetic_sample_by_its_class_training_images_equally_often():
    fake = FakeBalanced()
    a = classifier.ClassicStandIn(fake)
    assert len(a) == len(fake) and a.targets == fake.targets
    assert [a[i] for i in range(5)] == [fake[i] for i in range(5)]  # real samples untouched
    assert [a[i] for i in range(5, 9)] == [("real2", 1, True), ("real4", 1, True)] * 2  # class 1's, in turn, marked
    assert [a[i] for i in (9, 10)] == [("real0", 0, True), ("real1", 0, True)]


# --- LDAM-DRW and the re-fit --------------------------------------------------------------
def test_ldam_margins_fall_as_the_quarter_power_of_the_count_and_drw_weights_sum_to_the_classes():
    prior = torch.tensor([0.8, 0.15, 0.05])
    m = classifier.ldam_margins(prior, 1000)
    assert m.max().item() == pytest.approx(0.5) and m[2] == m.max()
    assert (m[0] / m[2]).item() == pytest.approx((800 / 50) ** -0.25, rel=1e-4)
    w = classifier.drw_weights(prior, 1000)
    assert w.sum().item() == pytest.approx(3.0) and w[2] > w[1] > w[0]


def test_ldam_loss_subtracts_the_margin_from_the_true_logit_and_reweights_only_from_80_percent():
    prior = torch.tensor([0.9, 0.1])
    loss = classifier.loss_fn({"loss": "ldam-drw"}, prior, 100, steps=10)
    z, y = torch.tensor([[0.2, 0.1], [0.2, 0.1]]), torch.tensor([0, 1])
    margins, weights = classifier.ldam_margins(prior, 100), classifier.drw_weights(prior, 100)
    shifted = z - torch.stack([torch.tensor([margins[0], 0.0]), torch.tensor([0.0, margins[1]])])
    plain = torch.nn.functional.cross_entropy(classifier.LDAM_S * shifted, y, reduction="none")
    assert torch.allclose(loss(z, y, 7), plain)  # before DRW
    assert torch.allclose(loss(z, y, 8), plain * weights[y])  # from step 8 of 10
    with pytest.raises(ValueError, match="unknown loss"):
        classifier.loss_fn({"loss": "focal"}, prior, 100, 10)


@pytest.mark.parametrize("cosine", [False, True])
def test_refit_trains_only_the_last_layer(tmp_path, cosine):
    from PIL import Image

    for c in ("0", "1"):
        (tmp_path / c).mkdir()
        for i in range(3):
            Image.fromarray(np.full((8, 8), 60 * i + 100 * int(c), np.uint8)).save(tmp_path / c / f"{i}.png")
    inp = classifier.Input(("0", "1"), ("1",), 1, image_size=8, clf_size=8, clf_width=4)
    torch.manual_seed(0)
    model = classifier.make_cnn(1, 8, 2, 4, cosine=cosine)
    before = [p.detach().clone() for p in model.parameters()]
    classifier.refit_head(model, inp, {"aug": "none"}, tmp_path, steps=3, seed=0)
    after = list(model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before[: -1 if cosine else -2], after))  # features frozen
    assert not torch.equal(before[-1], after[-1])  # the head moved


def test_several_classifier_seeds_are_averaged_score_by_score():
    def run(f1, recalls, refit_f1):
        score = {"macro_f1": f1, "recall_per_class": recalls}
        return {
            "val": score,
            "test": score,
            "seconds": 1.0,
            "refit": {"val": {"macro_f1": refit_f1}, "test": {"macro_f1": refit_f1}, "seconds": 0.5},
        }

    one = run(0.9, [1.0, 0.5], 0.8)
    assert cg.averaged([one]) is one
    two = cg.averaged([one, run(0.7, [0.0, 0.5], 0.6)])
    assert two["val"] == two["test"] == {"macro_f1": pytest.approx(0.8), "recall_per_class": [0.5, 0.5]}
    assert two["refit"]["val"]["macro_f1"] == pytest.approx(0.7) and two["seconds"] == 2.0


# --- over replicates ----------------------------------------------------------------------
def replicate(i: int, recall: dict[str, float]) -> dict:
    score = {"macro_f1": 0.9, "balanced_accuracy": 0.9}
    arms = {
        a: {"val": {**score, "minority_recall": r}, "test": {**score, "minority_recall": r}} for a, r in recall.items()
    }
    grid = {k: {"val": {"macro_f1": 0.9 + (k == "la/affine") * 0.01}} for k in cg.GRID}
    return {
        "replicate": i,
        "arms": arms,
        "grid": grid,
        "c_plus": "la/affine",
        "synthetic_counts": {"3": 100},
        "gan": {"minority_promoted": {"3": True}},
    }


def test_summary_pairs_arms_over_replicates_and_reads_the_gain_as_a_share_of_the_headroom():
    reps = [replicate(i, {"c_plus": 0.7, "gan": 0.72 + 0.01 * i, "a_prime": 0.7, "oracle": 0.9}) for i in range(3)]
    result = {"replicates": reps}
    cg.summarise(result)
    s = result["summary"]
    d = s["paired"]["gan - c_plus"]["minority_recall"]
    assert d["mean"] == pytest.approx(0.03) and d["ci95"][0] > 0
    assert s["paired"]["oracle - c_plus"]["minority_recall"]["mean"] == pytest.approx(0.2)
    assert s["share_of_headroom"]["minority_recall"]["mean"] == pytest.approx(0.15)
    assert s["share_of_headroom"]["macro_f1"] is None  # no headroom there
    assert result["grid_on_validation"]["la/affine"]["picked"] == 3


def test_merge_joins_disjoint_replicates_of_one_budget_and_refuses_the_rest(tmp_path):
    def part(name, idx, budgets):
        path = tmp_path / name
        reps = [replicate(i, {"c_plus": 0.7, "gan": 0.71, "a_prime": 0.7, "oracle": 0.9}) for i in idx]
        path.write_text(json.dumps({"budgets": budgets, "command": name, "replicates": reps}))
        return path

    a, b = part("a", [0, 1], {"n_minor": 5, "replicates": 2}), part("b", [3, 2], {"n_minor": 5, "replicates": 2})
    merged = cg.merge([b, a])
    assert [r["replicate"] for r in merged["replicates"]] == [0, 1, 2, 3]
    assert merged["summary"]["n_replicates"] == 4 and merged["merged_from"] == ["b", "a"]
    assert merged["budgets"]["replicates"] == 4
    # a merged file merges again with a run of another size; its own sources are carried
    (tmp_path / "ab").write_text(json.dumps(merged))
    again = cg.merge([tmp_path / "ab", part("f", [4], {"n_minor": 5, "replicates": 1})])
    assert again["merged_from"] == ["b", "a", "f"] and again["budgets"]["replicates"] == 5
    with pytest.raises(SystemExit, match="same budgets"):
        cg.merge([a, part("c", [4], {"n_minor": 15})])
    with pytest.raises(SystemExit, match="disjoint"):
        cg.merge([a, part("d", [1], {"n_minor": 5})])
    other = part("e", [5], {"n_minor": 5})
    other.write_text(json.dumps({**json.loads(other.read_text()), "generator": "small-daug-gsr"}))
    with pytest.raises(SystemExit, match="same budgets"):
        cg.merge([a, other])  # another GAN recipe is another experiment


@pytest.mark.parametrize("generator", [None, "small-daug-gsr"])
def test_the_gan_trains_with_the_librarys_defaults_or_the_named_candidate(monkeypatch, tmp_path, generator):
    from benchmarks.complementarity import GENERATORS

    seen = {}

    def train_gan(*args, train, **kw):
        seen["train"] = train
        return (
            {
                k: None
                for k in (
                    "best_step",
                    "gate",
                    "minority_passed_gate",
                    "minority_promoted",
                    "promoted_classes",
                    "seconds",
                )
            },
            None,
            None,
        )

    monkeypatch.setattr(cg, "train_gan", train_gan)
    p = {"gan_steps": 4, "utility_check": False, "eval_samples": 8, "judge_steps": 2, "band_draws": 2}
    cg.train_or_reuse_gan(0, p, tmp_path, tmp_path, [3, 5], None, lambda m: None, generator)
    assert seen["train"] == (GENERATORS[generator] if generator else {})


# --- one replicate, with the classifier and the GAN faked -------------------------------------
@pytest.fixture
def fake_replicate(monkeypatch, tmp_path):
    """run_replicate with train_clf scoring each strategy by a fixed table, a GAN that is "there"
    and BalancedDataset's counts given; returns (run, the strategies trained)."""
    from benchmarks import downstream

    trained: list[dict] = []
    # validation macro-F1: la/affine+elastic is classic's best; with a model, balanced/affine re-fitted
    val_of = {("uniform", "la", "affine+elastic", False, False): 0.95, ("balanced", "ce", "affine", True, True): 0.97}

    def train_clf(inp, strategy, folders, steps, seed, val, test, refit_steps=0):
        trained.append({**strategy, "folders": dict(folders), "refit_steps": refit_steps})
        key = (strategy["sampling"], strategy["loss"], strategy["aug"])
        with_model = "model" in strategy and not strategy.get("stand_in")
        plain, refit = (
            {"macro_f1": val_of.get((*key, with_model, r), 0.9), "balanced_accuracy": 0.9, "minority_recall": 0.8}
            for r in (0, 1)
        )
        return {"val": plain, "test": plain, "seconds": 0, "refit": {"val": refit, "test": refit, "seconds": 0}}

    counts = {"value": {"3": 100}}
    monkeypatch.setattr(cg, "train_clf", train_clf)
    monkeypatch.setattr(cg, "train_or_reuse_gan", lambda *a: ({"promoted_classes": ["3"]}, tmp_path / "model"))
    monkeypatch.setattr(downstream, "synthetic_plan", lambda folder, model: (counts["value"], {}))
    labels = np.repeat(np.arange(10), 80)
    images = np.zeros((len(labels), 28, 28), np.uint8)

    def run(**kw):
        trained.clear()
        return cg.run_replicate(0, SIZES, images, labels, tmp_path / "work", lambda msg: None, **kw)

    return run, trained, counts


def test_augment_gan_on_c_plus_and_its_a_prime_arm_share_c_pluss_config(fake_replicate):
    run, trained, _ = fake_replicate
    out = run()
    assert out["c_plus"] == out["gan_config"] == "la/affine+elastic"
    gan, a_prime, oracle = trained[-3:]
    assert gan["aug"] == a_prime["aug"] == oracle["aug"] == "affine+elastic" and gan["loss"] == "la"
    assert gan["share"] == cg.USE["share"] and not gan.get("stand_in") and a_prime["stand_in"] is True
    assert oracle["folders"]["train"].name == "oracle" and "model" not in oracle
    assert len(trained) == 6 + 3


def test_augment_gan_on_its_own_grid_picks_on_validation_and_a_prime_follows(fake_replicate):
    run, trained, _ = fake_replicate
    out = run(gan_recipe="grid")
    assert out["c_plus"] == "la/affine+elastic" and out["gan_config"] == "balanced/affine+refit"
    assert set(out["gan_grid"]) == set(cg.GRID)
    a_prime = trained[-2]
    assert (a_prime["sampling"], a_prime["aug"], a_prime["stand_in"], a_prime["refit_steps"]) == (
        "balanced",
        "affine",
        True,
        SIZES_REFIT,
    )
    assert len(trained) == 6 + 6 + 2


def test_a_model_adding_nothing_leaves_both_arms_equal_to_c_plus(fake_replicate):
    run, trained, counts = fake_replicate
    counts["value"] = {}
    out = run(gan_recipe="grid")
    assert out["arms"]["gan"] == out["arms"]["a_prime"] == out["arms"]["c_plus"]
    assert len(trained) == 6 + 1  # the classic grid and the oracle


def test_versus_pairs_a_candidates_gan_with_anothers_on_the_replicates_both_ran(tmp_path):
    def result(gan: float, idx, budgets=None, **extra):
        reps = [
            {
                **replicate(i, {"c_plus": 0.7, "gan": gan + 0.01 * i, "a_prime": 0.7, "oracle": 0.9}),
                "split_seed": 3000 + i,
                "classifier_seed": i,
                "minority": [1, 2],
                **extra,
            }
            for i in idx
        ]
        return {"budgets": budgets or {"n_minor": 5, "replicates": len(reps)}, "replicates": reps}

    other = tmp_path / "default.json"
    other.write_text(json.dumps({**result(0.70, range(4)), "generator": None}))
    v = cg.versus(result(0.72, [1, 2, 3, 5]), other)
    assert v["replicates"] == [1, 2, 3]  # replicate 5: the default never ran it
    assert v["gan - other gan"]["minority_recall"]["mean"] == pytest.approx(0.02)
    assert v["other gan - other a_prime"]["minority_recall"]["mean"] == pytest.approx(0.02)
    with pytest.raises(SystemExit, match="other budgets"):
        cg.versus(result(0.72, [1, 2], budgets={"n_minor": 15, "replicates": 2}), other)
    with pytest.raises(SystemExit, match="another split"):
        cg.versus(result(0.72, [1, 2], minority=[3, 4]), other)
    # and the docs render it
    from benchmarks import render

    full = {"n_minor": 5, "n_major": 400, "clf_steps": 300, "refit_steps": 100, "gan_steps": 2000, "n_test": 300}
    shown = {**result(0.72, [1, 2, 3], budgets=full), "versus": v}
    cg.summarise(shown)
    rendered = render.classifier_grid(shown, "x")
    assert "gan - other gan" in rendered and "+0.020" in rendered
