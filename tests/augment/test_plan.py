"""Plan arithmetic (pure): targets, --max-share, --classes, gate and model-class skips."""

from __future__ import annotations

import pytest

from augment_gan.augment import SkipKind, parse_max_share, parse_target, plan_classes
from augment_gan.errors import ConfigError

REAL = {"a": 12, "b": 8, "c": 6}
MODEL = ["a", "b", "c"]


def gen(plans):
    return {p.name: p.generate for p in plans}


@pytest.mark.parametrize(
    ("target", "count", "expected"),
    [
        ("max", 12, {"a": 0, "b": 4, "c": 6}),
        ("10", 10, {"a": 0, "b": 2, "c": 4}),
        (5, 5, {"a": 0, "b": 0, "c": 0}),
        ("20", 20, {"a": 8, "b": 12, "c": 14}),
        ("ratio:0.5", 6, {"a": 0, "b": 0, "c": 0}),
        ("ratio:0.9", 11, {"a": 0, "b": 3, "c": 5}),  # ceil(0.9 * 12) = 11
        ("ratio:1", 12, {"a": 0, "b": 4, "c": 6}),
    ],
)
def test_targets(target, count, expected) -> None:
    plans = plan_classes(REAL, {}, parse_target(target), model_classes=MODEL)
    assert gen(plans) == expected
    assert {p.target for p in plans} == {count}
    assert all(p.skipped is None for p in plans)


@pytest.mark.parametrize("bad", ["min", "0", "-3", "ratio:0", "ratio:-1", "ratio:x", "1.5", True])
def test_bad_targets(bad) -> None:
    with pytest.raises(ConfigError):
        parse_target(bad)


def test_existing_synthetic_is_subtracted_and_never_deleted() -> None:
    plans = plan_classes(REAL, {"b": 4, "c": 2}, parse_target("max"), model_classes=MODEL)
    assert gen(plans) == {"a": 0, "b": 0, "c": 4}
    # a lower target than what the folder holds: 0, with a note, nothing removed
    plans = plan_classes(REAL, {"b": 4, "c": 6}, parse_target("10"), model_classes=MODEL)
    assert gen(plans) == {"a": 0, "b": 0, "c": 0}
    assert "nothing is deleted" in plans[1].note and "2 more" in plans[1].note


def test_max_share_caps_synthetic_share_of_each_class() -> None:
    quarter = parse_max_share(0.25)
    plans = plan_classes(REAL, {}, parse_target("max"), model_classes=MODEL, max_share=quarter)
    assert gen(plans) == {"a": 0, "b": 2, "c": 2}  # floor(8/3), floor(6/3)
    assert all(p.share_after <= 0.25 for p in plans)
    assert "max-share" in plans[1].note
    # the cap counts what the folder already holds
    plans = plan_classes(REAL, {"c": 1}, parse_target("max"), model_classes=MODEL, max_share=quarter)
    assert gen(plans)["c"] == 1
    half = plan_classes(REAL, {}, parse_target("max"), model_classes=MODEL, max_share=parse_max_share("0.5"))
    assert gen(half) == {"a": 0, "b": 4, "c": 6}
    assert parse_max_share(1) is None and parse_max_share(None) is None
    assert gen(plan_classes(REAL, {}, parse_target("max"), model_classes=MODEL, max_share=parse_max_share(0))) == {
        "a": 0,
        "b": 0,
        "c": 0,
    }
    for bad in (-0.1, 1.5, "x"):
        with pytest.raises(ConfigError):
            parse_max_share(bad)


def test_share_after_is_reported() -> None:
    plans = plan_classes(REAL, {}, parse_target("max"), model_classes=MODEL)
    assert [round(p.share_after, 3) for p in plans] == [0.0, 0.333, 0.5]


def test_classes_selection_gate_and_unknown_classes() -> None:
    failed = {"c": "kid 0.08 > 0.05 (n=6)"}
    plans = plan_classes(
        {**REAL, "d": 3, "e": 0},
        {},
        parse_target("max"),
        model_classes=["a", "b", "c", "e"],
        gate_failure=failed.get,
        selected=["b", "c", "d", "e"],
    )
    by = {p.name: p for p in plans}
    assert by["a"].skipped == "not selected (--classes)"  # not selected, though at target anyway
    assert by["b"].generate == 4 and by["b"].skipped is None
    assert by["c"].generate == 0 and by["c"].skipped == "gate failed: kid 0.08 > 0.05 (n=6)"
    assert by["d"].generate == 0 and by["d"].skipped == "not a class of the model"
    assert by["e"].skipped.startswith("no real images")
    assert {n: p.skip for n, p in by.items()} == {
        "a": SkipKind.NOT_SELECTED,
        "b": None,
        "c": SkipKind.GATE_FAILED,
        "d": SkipKind.NOT_IN_MODEL,
        "e": SkipKind.NO_REAL,
    }
    assert by["c"].skip_detail == "kid 0.08 > 0.05 (n=6)" and by["c"].to_dict()["skipped"] == by["c"].skipped
    assert by["a"].target == 12  # max is the largest class's real count, selected or not
