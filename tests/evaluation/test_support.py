"""The size-free per-sample tests, on known answers: spread (collapse) and nearest class
(another class), and how the registry reports them when they cannot be computed."""

import numpy as np
import pytest

from augment_gan.evaluation.evaluate import EvalConfig, class_metrics
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.evaluation.metrics import nearest_class_share, spread_ratio
from augment_gan.evaluation.metrics.support import MAX_SAMPLES

CFG = EvalConfig(kid_subsets=10)


def _classes(rng: np.random.Generator, n_own: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A tiny class around 0 and three big ones around 8, 16, 24 on the first axis."""
    own = rng.normal(size=(n_own, 8))
    others = np.concatenate([rng.normal(size=(300, 8)) + np.eye(8)[0] * 8 * k for k in (1, 2, 3)])
    return own, others


def test_nearest_class_counts_the_samples_nearest_to_the_class() -> None:
    rng = np.random.default_rng(0)
    own, others = _classes(rng)
    fresh = rng.normal(size=(200, 8))  # new images of the tiny class
    assert nearest_class_share(own, others, fresh) > 0.5
    assert nearest_class_share(own, others, others[:100] + 0.01) == 0.0  # another class's images
    half = np.concatenate([own[:2].repeat(50, axis=0), others[:100]])
    assert nearest_class_share(own, others, half) == pytest.approx(0.5)
    assert nearest_class_share(own, others, np.concatenate([fresh, others])) == nearest_class_share(
        own, others, fresh[:MAX_SAMPLES]
    )  # only the first MAX_SAMPLES count


def test_spread_is_zero_for_one_image_and_about_one_for_real_images() -> None:
    rng = np.random.default_rng(1)
    own = rng.normal(size=(5, 8))
    assert spread_ratio(own, own[:1].repeat(100, axis=0)) == 0.0
    assert 0.7 < spread_ratio(own, rng.normal(size=(300, 8))) < 1.4
    assert spread_ratio(own, 2 * rng.normal(size=(300, 8))) > 1.5
    with pytest.raises(ValueError, match="same features"):
        spread_ratio(np.ones((3, 8)), rng.normal(size=(10, 8)))


def test_a_tiny_class_is_judged_by_spread_and_nearest_class_without_a_band() -> None:
    rng = np.random.default_rng(2)
    own, others = _classes(rng)
    train, reference = own[:4], own[2:]

    def gate(fake, others=others):
        record = class_metrics(reference=reference, train=train, holdout=own[4:], fake=fake, cfg=CFG, others=others)
        report = {
            "step": 1,
            "overall": {"fid": 0.0, "n_real": 1},
            "classes": {"c": {**record, "class_consistency": 1.0, "band": None}},
        }
        return record, apply_gate(report, GateThresholds(max_kid=1e9))["per_class"]["c"]

    record, fresh = gate(rng.normal(size=(200, 8)))
    assert fresh["passed"], fresh["reasons"]
    assert {"spread", "nearest_class"} <= set(fresh["checks_run"]) and record["coverage"] is None
    _, collapsed = gate(rng.normal(size=(1, 8)).repeat(200, axis=0) + 1e-3 * rng.normal(size=(200, 8)))
    assert [r.split()[0] for r in collapsed["reasons"]] == ["spread"]
    _, wrong = gate(others[:200] + 0.05 * rng.normal(size=(200, 8)))
    assert "nearest_class" in [r.split()[0] for r in wrong["reasons"]]
    # a one-class dataset: nothing to tell the class from, so the check is not run
    record, alone = gate(rng.normal(size=(200, 8)), others=None)
    assert record["nearest_class"] is None and "nearest_class" not in alone["checks_run"]
    assert "nearest_class: no other class's images to tell it from" in alone["not_run"]


def test_a_report_written_before_a_check_existed_fails_it_and_says_to_evaluate_again() -> None:
    rng = np.random.default_rng(3)
    own, others = _classes(rng)
    record = class_metrics(
        reference=own[2:], train=own[:4], holdout=own[4:], fake=rng.normal(size=(200, 8)), cfg=CFG, others=others
    )
    old = {k: v for k, v in record.items() if k not in ("spread", "nearest_class")}
    report = {"step": 1, "overall": {"fid": 0.0, "n_real": 1}, "classes": {"c": {**old, "class_consistency": 1.0}}}
    decision = apply_gate(report, GateThresholds(max_kid=1e9))["per_class"]["c"]
    assert not decision["passed"]
    assert "spread not in this report (evaluated before the check existed): run evaluate again" in decision["reasons"]
