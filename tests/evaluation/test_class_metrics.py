"""Per-class metrics on synthetic features where the right answer is known."""

import numpy as np
import pytest

from augment_gan.evaluation.evaluate import EvalConfig, class_metrics
from augment_gan.evaluation.gate import GateThresholds, apply_gate

CFG = EvalConfig(kid_subsets=10)


def _class(rng: np.random.Generator, n_train: int = 150, n_holdout: int = 60, dim: int = 8):
    train = rng.normal(size=(n_train, dim))
    holdout = rng.normal(size=(n_holdout, dim))
    return train, holdout


def _gate(record: dict) -> dict:
    report = {"step": 1, "overall": {"fid": 0.0, "n_real": 1}, "classes": {"c": {**record, "class_consistency": 1.0}}}
    return apply_gate(report, GateThresholds(max_fid=1.0, max_kid=0.5, max_overall_fid=10.0))["per_class"]["c"]


def test_a_good_class_passes() -> None:
    rng = np.random.default_rng(0)
    train, holdout = _class(rng)
    fake = rng.normal(size=(300, 8))
    record = class_metrics(reference=holdout, train=train, holdout=holdout, fake=fake, cfg=CFG)
    assert record["precision"] > 0.8 and record["recall"] > 0.8
    assert record["copy_rate"] < 0.05
    assert record["n_reference"] == 60 and record["n_pr"] == 60 and record["n_fake"] == 300
    assert _gate(record)["passed"], _gate(record)["reasons"]


def test_a_collapsed_class_fails_coverage() -> None:
    rng = np.random.default_rng(1)
    train, holdout = _class(rng)
    fake = train[0] + 0.01 * rng.normal(size=(300, 8)) + 0.3  # every sample near one mode
    record = class_metrics(reference=holdout, train=train, holdout=holdout, fake=fake, cfg=CFG)
    assert record["recall"] < 0.1 and record["coverage"] < 0.25
    reasons = " ".join(_gate(record)["reasons"])
    assert "coverage" in reasons


def test_a_class_of_copies_fails_the_copy_rate() -> None:
    rng = np.random.default_rng(2)
    train, holdout = _class(rng)
    fake = train[rng.integers(0, len(train), 300)] + 1e-6 * rng.normal(size=(300, 8))
    record = class_metrics(reference=holdout, train=train, holdout=holdout, fake=fake, cfg=CFG)
    assert record["copy_rate"] == 1.0 and record["copy_reference"] == "ratio"
    gate = _gate(record)
    assert not gate["passed"] and any(r.startswith("copy_rate 1 >") for r in gate["reasons"])


def test_the_copy_test_needs_no_held_out_images_and_reads_the_same_in_a_tiny_class() -> None:
    rng = np.random.default_rng(3)
    train, holdout = _class(rng, n_train=12, n_holdout=0)
    copies = class_metrics(
        reference=train,
        train=train,
        holdout=holdout,
        fake=np.repeat(train, 10, axis=0) + 1e-6 * rng.normal(size=(120, 8)),
        cfg=CFG,
    )
    assert copies["copy_reference"] == "ratio" and copies["copy_rate"] == 1.0
    fresh = class_metrics(reference=train, train=train, holdout=holdout, fake=rng.normal(size=(120, 8)), cfg=CFG)
    assert fresh["copy_rate"] < 0.05


def test_too_small_for_precision_recall_is_reported_not_faked() -> None:
    rng = np.random.default_rng(4)
    train, holdout = _class(rng, n_train=4, n_holdout=0)
    record = class_metrics(reference=train, train=train, holdout=holdout, fake=rng.normal(size=(50, 8)), cfg=CFG)
    assert record["precision"] is None and record["recall"] is None
    decision = _gate(record)
    # a check the class is too small for is reported as not run, not failed: the class is
    # judged by the checks that ran
    assert "precision: not computable with 4 reference images" in decision["not_run"]
    assert not any("precision" in r or "recall" in r or "coverage" in r for r in decision["reasons"])
    assert {"precision", "recall", "coverage"}.isdisjoint(decision["checks_run"])
    assert "copy_rate" in decision["checks_run"]


def test_fid_is_gated_only_with_enough_reference_images() -> None:
    rng = np.random.default_rng(5)
    train, holdout = _class(rng, n_train=40, n_holdout=5)
    record = class_metrics(
        reference=np.concatenate([train, holdout]),
        train=train,
        holdout=holdout,
        fake=rng.normal(size=(200, 8)) * 1.3,
        cfg=CFG,
    )
    assert record["n_reference"] == 45
    assert not any(r.startswith("fid") for r in _gate(record)["reasons"])


def test_overall_fid_ceiling_fails_every_class() -> None:
    record = {
        "n_reference": 100,
        "fid": 0.1,
        "kid": 0.0,
        "precision": 1.0,
        "recall": 1.0,
        "coverage": 1.0,
        "spread": 1.0,
        "class_consistency": 1.0,
        "nearest_class": 1.0,
        "copy_rate": 0.0,
    }
    report = {"step": 3, "overall": {"fid": 50.0, "n_real": 200}, "classes": {"a": record, "b": record}}
    decision = apply_gate(report, GateThresholds(max_overall_fid=20.0))
    assert decision["passed_classes"] == [] and not decision["overall"]["passed"]
    assert decision["per_class"]["a"]["reasons"] == ["overall fid 50 > 20 (n=200)"]


@pytest.mark.parametrize("content, message", [("max_fid = 5\n[x]\n", "unknown keys"), ("max_fid = ", "not valid TOML")])
def test_gate_file_errors_are_clear(tmp_path, content, message) -> None:
    from augment_gan.errors import ConfigError

    path = tmp_path / "gate.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        GateThresholds.from_toml(path)


def test_gate_file_and_overrides(tmp_path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text("[gate]\nmax_fid = 12.5\nmin_recall = 0.1\n")
    t = GateThresholds.from_toml(path).with_overrides(min_recall=0.2, max_kid=None)
    assert (t.max_fid, t.min_recall, t.max_kid) == (12.5, 0.2, GateThresholds().max_kid)


def test_the_judge_trains_on_half_of_each_class_and_the_same_half_every_time() -> None:
    from augment_gan.evaluation.evaluate import judge_split

    labels = np.array([0] * 13 + [1] * 40 + [2] * 1)
    train_idx = np.arange(len(labels))[::-1].copy()
    chosen = judge_split(train_idx, labels, seed=0)
    assert np.bincount(labels[chosen]).tolist() == [6, 20, 1]
    assert np.array_equal(chosen, np.sort(chosen)) and np.array_equal(chosen, judge_split(train_idx, labels, seed=0))
    assert not np.array_equal(chosen, judge_split(train_idx, labels, seed=1))


def test_a_five_image_class_can_pass_and_copies_or_another_class_fail() -> None:
    """At 5 images (4 to train on, 1 held out: too few for the k-NN checks), what can be
    measured decides: new real images of the class pass, copies of its training images and
    another class's images fail, each for its own reason."""
    rng = np.random.default_rng(7)
    train, holdout = _class(rng, n_train=4, n_holdout=1)
    reference = np.concatenate([train, holdout])

    def verdict(fake: np.ndarray) -> dict:
        return _gate(class_metrics(reference=reference, train=train, holdout=holdout, fake=fake, cfg=CFG))

    new_reals = verdict(rng.normal(size=(60, 8)))
    assert new_reals["passed"], new_reals["reasons"]
    assert any(m.startswith("precision") for m in new_reals["not_run"])
    copies = verdict(np.repeat(train, 15, axis=0) + 1e-6 * rng.normal(size=(60, 8)))
    assert not copies["passed"] and any("copy_rate" in r for r in copies["reasons"])
    other = verdict(rng.normal(size=(60, 8)) + 4.0)
    assert not other["passed"] and not any("copy_rate" in r for r in other["reasons"])
