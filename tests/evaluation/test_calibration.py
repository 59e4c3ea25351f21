"""Real-vs-real bands on features whose truth is known (Gaussian classes), and the gate on them."""

import numpy as np
import pytest

from augment_gan.evaluation.calibration import Sizes, joint_level, real_band, roles
from augment_gan.evaluation.evaluate import EvalConfig, class_metrics
from augment_gan.evaluation.gate import GateThresholds, apply_gate

CFG = EvalConfig(kid_subsets=10)
DIM = 16


def metrics(**sets):
    return class_metrics(**sets, cfg=CFG)


def _dataset(rng: np.random.Generator, sizes=(300, 300, 300, 15)) -> list[np.ndarray]:
    """Classes with the same shape (a random covariance) and far-apart means."""
    shape = rng.normal(size=(DIM, DIM)) / DIM**0.5 + np.eye(DIM)
    return [rng.normal(size=(n, DIM)) @ shape + 6.0 * c for c, n in enumerate(sizes)], shape


def _record(train, reference, fake, others=None):
    record = metrics(reference=reference, train=train, holdout=reference[:0], fake=fake, others=others)
    return {**record, "reference": "judge-unseen", "class_consistency": 1.0}


def _gate(record, thresholds=GateThresholds()):
    report = {"step": 1, "overall": {"fid": 0.0, "n_real": 1}, "classes": {"c": record}}
    return apply_gate(report, thresholds)["per_class"]["c"]


def test_roles_keep_the_class_sizes_or_say_they_cannot() -> None:
    small = Sizes(n_train=13, n_reference=8, n_fake=200)
    assert roles(small, 300, 600) == (8, 200, 13)
    assert roles(small, 30, 60) == (8, 22, 13)  # fewer stand-ins than samples, still >= n_reference
    assert roles(small, 15, 30) is None  # 7 stand-ins < 8 reference images
    assert roles(small, 15, 30, scale_down=True) == (7, 8, 13)  # half the unseen images stand in
    assert roles(small, 3, 3, scale_down=True) is None
    big = Sizes(n_train=900, n_reference=100, n_fake=500)
    assert roles(big, 550, 1000) == (100, 450, 550)  # the training role shrinks: the copy null hardly moves


def test_joint_level_bounds_the_share_of_real_sets_rejected() -> None:
    rng = np.random.default_rng(0)
    badness = {name: rng.normal(size=400) for name in "abcdef"}
    level = joint_level(badness, 0.05)
    bounds = {n: np.quantile(b, 1 - level, method="higher") for n, b in badness.items()}
    rejected = np.mean(np.any([b > bounds[n] for n, b in badness.items()], axis=0))
    assert 0.05 / 6 <= level < 0.05 and rejected <= 0.05


@pytest.fixture(scope="module")
def small_class():
    """A 15-image class (13 training images, 8 of its images unseen by the judge: the
    reference) in a dataset of big classes, its band, and where its fresh images come from."""
    rng = np.random.default_rng(1)
    by_class, shape = _dataset(rng)
    train, reference = by_class[3][:13], by_class[3][7:]
    sizes = Sizes(n_train=13, n_reference=8, n_fake=120)
    seen = [x[:0] for x in by_class]  # no judge here: every image is "unseen"
    band = real_band(by_class, seen, 3, sizes, metrics, draws=100, false_rejection=0.03, seed=0)

    def fresh(n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).normal(size=(n, DIM)) @ shape + 18.0

    return train, reference, band, fresh


def test_the_band_of_a_small_class_is_pooled_and_knows_its_bad_sets(small_class) -> None:
    _, _, band, _ = small_class
    assert band["source"] == "pooled" and band["n_fake"] == 120 and band["n_reference"] == 8
    m = band["metrics"]
    assert set(m) == {"fid", "kid", "precision", "recall", "coverage", "spread", "nearest_class", "copy_rate"}
    assert all(v["lo"] <= v["hi"] for v in m.values())
    assert m["copy_rate"]["bad"] == 1.0 and m["copy_rate"]["hi"] < 0.1
    assert m["recall"]["bad"] < 0.1 < m["recall"]["lo"]
    assert m["precision"]["bad"] < 0.1 < m["precision"]["lo"]
    assert m["spread"]["bad"] < 0.01 < 0.5 < m["spread"]["lo"]  # one image repeated has no spread
    assert m["nearest_class"]["bad"] == 0.0 < 0.5 < m["nearest_class"]["lo"]  # another class is nearest its own


def test_fresh_real_sets_of_a_small_class_pass_the_calibrated_gate(small_class) -> None:
    """The calibration property: real images scored as if synthetic pass (>= 90 % of 40
    sets here; benchmarks/gate_calibration.py measures it on real images at scale)."""
    train, reference, band, fresh = small_class
    passed = sum(_gate({**_record(train, reference, fresh(120, seed)), "band": band})["passed"] for seed in range(40))
    assert passed >= 36


def test_bad_sets_fail_for_their_own_reason(small_class) -> None:
    train, reference, band, fresh = small_class
    rng = np.random.default_rng(2)
    jitter = 1e-3 * rng.normal(size=(120, DIM))
    cases = {
        "collapsed": (fresh(1, 99) + jitter, {"recall", "spread"}),  # one point's coverage at n=15: see below
        "copies": (train[rng.integers(0, 13, 120)] + jitter, {"copy_rate"}),
        "another class": (fresh(120, 98) - 12.0, {"precision", "kid"}),
    }
    for name, (fake, expected) in cases.items():
        decision = _gate({**_record(train, reference, fake), "band": band})
        failed = {reason.split()[0] for reason in decision["reasons"]}
        assert not decision["passed"] and expected <= failed, (name, decision["reasons"])
        assert decision["calibrated"]


def test_a_metric_that_cannot_tell_at_this_size_is_a_warning(small_class) -> None:
    train, reference, band, fresh = small_class
    # A band so wide it reaches what another class scores: precision cannot gate.
    wide = {**band, "metrics": {**band["metrics"], "precision": {**band["metrics"]["precision"], "lo": 0.0}}}
    record = {**_record(train, reference, fresh(120, 5)), "band": wide, "precision": 0.3}
    decision = _gate(record)
    assert decision["passed"], decision["reasons"]
    assert decision["warnings"] and decision["warnings"][0].startswith("precision not gated at n=8")


def test_without_a_band_the_fixed_thresholds_decide(small_class) -> None:
    train, reference, _, fresh = small_class
    record = {**_record(train, reference, fresh(120, 7)), "band": None, "coverage": 0.1}
    decision = _gate(record)
    assert not decision["calibrated"] and any(r.startswith("coverage 0.1 < 0.25") for r in decision["reasons"])


def test_no_band_when_no_class_has_enough_images() -> None:
    rng = np.random.default_rng(3)
    by_class = [rng.normal(size=(3, DIM)) for _ in range(3)]
    sizes = Sizes(n_train=3, n_reference=3, n_fake=50)
    seen = [x[:0] for x in by_class]
    assert real_band(by_class, seen, 0, sizes, metrics, draws=10, false_rejection=0.03, seed=0) is None


def test_bands_are_deterministic() -> None:
    rng = np.random.default_rng(4)
    by_class, _ = _dataset(rng, sizes=(60, 60, 12))
    seen = [x[:5] for x in by_class]
    unseen = [x[5:] for x in by_class]
    sizes = Sizes(n_train=10, n_reference=5, n_fake=40)
    one = real_band(unseen, seen, 2, sizes, metrics, draws=20, false_rejection=0.05, seed=3)
    assert one == real_band(unseen, seen, 2, sizes, metrics, draws=20, false_rejection=0.05, seed=3)


def test_class_consistency_band_is_the_judges_own_accuracy_with_its_uncertainty() -> None:
    from augment_gan.evaluation.calibration import consistency_band

    labels = np.array([0] * 9 + [1] * 100)
    predicted = np.array([0] * 7 + [1] * 2 + [1] * 98 + [0] * 2)  # 7/9 right; 2 % of class 1 called 0
    band = consistency_band(predicted, labels, 0, level=0.01)
    assert band["hi"] == pytest.approx(7 / 9) and 0.3 < band["lo"] < 0.6 and band["bad"] == pytest.approx(0.02)
    wider = consistency_band(predicted, labels, 0, level=0.001)
    assert wider["lo"] < band["lo"]
    assert consistency_band(predicted, labels, 2, level=0.01) is None


def test_own_copy_rate_counts_real_near_duplicates_leave_one_out() -> None:
    from augment_gan.evaluation.calibration import binomial_upper, own_copy_rate

    rng = np.random.default_rng(5)
    spread = rng.normal(size=(20, DIM))
    assert own_copy_rate(spread, spread[:0], 0.5) == (0, 20)
    twins = np.concatenate([spread, spread[:5] + 1e-3 * rng.normal(size=(5, DIM))])  # 5 near-duplicate pairs
    k, n = own_copy_rate(twins, rng.normal(size=(4, DIM)), 0.5)
    assert (k, n) == (10, 29)  # both members of each pair, by leave-one-out; no held-out image
    assert binomial_upper(0.0, 500, 0.01) == 0.0 and 0.2 < binomial_upper(0.2, 500, 0.01) < 0.25
