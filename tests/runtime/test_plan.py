"""The one consumer plan (pure): every skip reason and its order, and each consumer's amount."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from augment_gan.errors import ConfigError
from augment_gan.runtime.plan import (
    FillTo,
    ModelClasses,
    PlannedClass,
    Requested,
    SkipKind,
    TopUp,
    UnknownClassError,
    class_index,
    gate_failure,
    plan_classes,
)
from augment_gan.runtime.target import parse_target
from tests.export.helpers import gate

MODEL = ["cat", "dog", "eel", "fox"]
CARD = {"classes": MODEL, "gate": gate(MODEL, failed={"eel": ["fid 80 > 40", "kid 0.1 > 0.05"]})}
UNGATED = {"classes": MODEL, "gate": {"ran": False}}
MAX = parse_target("max")


def skips(plan) -> dict[str, SkipKind | None]:
    return {c.name: c.skip for c in plan.classes}


# --- skip reasons, one each -----------------------------------------------------------


def test_a_class_with_no_real_images_is_skipped() -> None:
    plan = plan_classes(CARD, {"cat": 12, "dog": 0}, FillTo(MAX))
    assert plan.classes[1] == PlannedClass("dog", 1, 0, 12, 0, SkipKind.NO_REAL)


def test_a_class_left_out_of_the_selection_is_skipped() -> None:
    plan = plan_classes(CARD, {"cat": 12, "dog": 6}, FillTo(MAX), selected=["cat"])
    assert plan.classes[1] == PlannedClass("dog", 1, 6, 6, 0, SkipKind.NOT_SELECTED)


def test_a_folder_class_the_model_does_not_know_is_skipped() -> None:
    plan = plan_classes(CARD, {"cat": 12, "ant": 3}, FillTo(MAX))
    assert plan.classes[1] == PlannedClass("ant", None, 3, 9, 0, SkipKind.NOT_IN_MODEL)


def test_model_classes_the_folder_lacks_come_last() -> None:
    plan = plan_classes(CARD, {"dog": 6, "cat": 12}, FillTo(MAX))
    assert [c.name for c in plan.classes] == ["dog", "cat", "eel", "fox"]
    assert plan.classes[2:] == (
        PlannedClass("eel", 2, None, 0, 0, SkipKind.NOT_IN_FOLDER),
        PlannedClass("fox", 3, None, 0, 0, SkipKind.NOT_IN_FOLDER),
    )


def test_a_class_the_gate_failed_is_skipped_with_its_reasons() -> None:
    plan = plan_classes(CARD, {"cat": 12, "eel": 6}, FillTo(MAX))
    assert plan.classes[1] == PlannedClass("eel", 2, 6, 6, 0, SkipKind.GATE_FAILED, "fid 80 > 40; kid 0.1 > 0.05")


def test_a_class_folder_resolving_outside_is_skipped_with_where() -> None:
    where = {"dog": "it resolves to /shared/dog"}
    plan = plan_classes(CARD, {"cat": 12, "dog": 6}, FillTo(MAX), outside=where.get)
    assert plan.classes[1] == PlannedClass("dog", 1, 6, 6, 0, SkipKind.LINK_OUTSIDE, "it resolves to /shared/dog")


def test_a_class_already_at_target_gets_none_and_is_not_skipped() -> None:
    plan = plan_classes(CARD, {"cat": 12, "dog": 12}, FillTo(MAX))
    assert plan.classes[1] == PlannedClass("dog", 1, 12, 0, 0, None)
    assert plan.counts == {}


def test_a_requested_label_the_model_does_not_know_is_an_error() -> None:
    with pytest.raises(UnknownClassError, match=r"unknown class 'wolf'; this model's classes are \['cat'"):
        plan_classes(CARD, None, Requested({"wolf": 1}))
    with pytest.raises(ValueError, match="unknown class 4"):  # a ValueError too (the service's 400)
        plan_classes(CARD, None, Requested({4: 1}))


def test_every_skip_kind_is_covered_by_a_test_above() -> None:
    assert {k.value for k in SkipKind} == {
        "no_real",
        "not_selected",
        "not_in_model",
        "not_in_folder",
        "gate_failed",
        "link_outside",
    }


# --- the order and when the gate is asked -----------------------------------------------


def test_skips_are_checked_in_order() -> None:
    everything = {"eel": "it resolves to /x", "dog": "it resolves to /y"}
    plan = plan_classes(
        CARD,
        {"cat": 0, "ant": 0, "bee": 3, "eel": 6, "dog": 6},
        FillTo(parse_target(10)),
        selected=["ant", "eel", "dog"],
        outside=everything.get,
    )
    assert skips(plan) == {
        "cat": SkipKind.NO_REAL,  # before not selected
        "ant": SkipKind.NO_REAL,  # before not a class of the model
        "bee": SkipKind.NOT_SELECTED,  # before not a class of the model
        "eel": SkipKind.GATE_FAILED,  # before its link
        "dog": SkipKind.LINK_OUTSIDE,
        "fox": SkipKind.NOT_IN_FOLDER,
    }


def test_the_gate_and_links_are_asked_only_for_classes_that_want_samples() -> None:
    asked = []

    def failure(name: str) -> str:
        asked.append(name)
        return "failed"

    model = ModelClasses(MODEL, failure)
    plan = plan_classes(model, {"cat": 12, "dog": 6}, FillTo(MAX), outside=lambda name: asked.append(name))
    assert asked == ["dog"] and skips(plan) == {
        "cat": None,
        "dog": SkipKind.GATE_FAILED,
        "eel": SkipKind.NOT_IN_FOLDER,
        "fox": SkipKind.NOT_IN_FOLDER,
    }


def test_an_ungated_model_passes_every_class() -> None:
    assert gate_failure(UNGATED, "eel") is None
    assert plan_classes(UNGATED, {"cat": 12, "eel": 6}, FillTo(MAX)).counts == {"eel": 6}


def test_a_class_without_a_gate_decision_fails_it() -> None:
    card = {"classes": MODEL, "gate": {"ran": True, "per_class": {"cat": {"passed": True}}}}
    assert gate_failure(card, "cat") is None
    assert gate_failure(card, "dog") == "the gate has no decision for this class"
    assert gate_failure({**card, "gate": gate(MODEL, failed={"dog": []})}, "dog") == "failed the gate"


def test_the_model_may_be_anything_holding_a_card() -> None:
    class Holder:
        card = CARD

    assert plan_classes(Holder(), {"eel": 6}, FillTo(MAX)) == plan_classes(CARD, {"eel": 6}, FillTo(MAX))


# --- how many: FillTo (augment) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "count", "expected"),
    [
        ("max", 12, {"dog": 4, "fox": 6}),
        ("10", 10, {"dog": 2, "fox": 4}),
        ("ratio:0.9", 11, {"dog": 3, "fox": 5}),
        ("5", 5, {}),
    ],
)
def test_fill_to_the_target(target, count, expected) -> None:
    plan = plan_classes(CARD, {"cat": 12, "dog": 8, "fox": 6}, FillTo(parse_target(target)))
    assert plan.target == count and plan.counts == expected


def test_fill_caps_the_share_and_subtracts_what_the_folder_holds() -> None:
    quarter = FillTo(MAX, Fraction(1, 4))
    assert plan_classes(CARD, {"cat": 12, "dog": 8, "fox": 6}, quarter).counts == {"dog": 2, "fox": 2}
    held = FillTo(MAX, Fraction(1, 4), {"fox": 1, "dog": 5})
    plan = plan_classes(CARD, {"cat": 12, "dog": 8, "fox": 6}, held)
    assert plan.counts == {"fox": 1} and plan.classes[1].skip is None  # dog holds more: 0, not skipped


# --- how many: TopUp (BalancedDataset) --------------------------------------------------


def test_top_up_gives_each_class_below_the_target_the_same_pool() -> None:
    plan = plan_classes(CARD, {"cat": 6, "dog": 2, "fox": 5}, TopUp(parse_target(8), 0.25))
    assert plan.target == 8 and plan.counts == {"cat": 2, "dog": 2, "fox": 2}
    assert plan_classes(CARD, {"cat": 6, "dog": 2}, TopUp(MAX, 0.25)).counts == {"dog": 2}  # ceil(6 x 0.25)
    assert plan_classes(CARD, {"cat": 6, "dog": 2}, TopUp(MAX, 0.0)).counts == {}


# --- how many: Requested (SyntheticDataset, the service) --------------------------------


def test_requested_counts_by_name_or_index_in_model_order() -> None:
    plan = plan_classes(CARD, None, Requested({"fox": 2, 0: 3, np.int64(1): 1}))
    assert plan.target is None and plan.counts == {"cat": 3, "dog": 1, "fox": 2}
    assert [c.index for c in plan.classes] == [0, 1, 2, 3] and all(c.real is None for c in plan.classes)


def test_a_requested_class_the_gate_failed_keeps_what_was_wanted() -> None:
    eel = plan_classes(CARD, None, Requested(2)).classes[2]
    assert eel == PlannedClass("eel", 2, None, 2, 0, SkipKind.GATE_FAILED, "fid 80 > 40; kid 0.1 > 0.05")
    assert plan_classes(CARD, None, Requested({"eel": 0})).classes[2].skip is None  # not asked for: not failed


@pytest.mark.parametrize("bad", [-1, True, 1.5, "2"])
def test_requested_counts_must_be_non_negative_integers(bad) -> None:
    with pytest.raises(ConfigError, match=r"the count for class 'dog' must be a non-negative integer"):
        plan_classes(CARD, None, Requested({"dog": bad}))
    with pytest.raises(ConfigError, match="the count for class 0 must be"):
        plan_classes(CARD, None, Requested(bad))


def test_a_folder_amount_needs_a_folder_and_a_request_none() -> None:
    with pytest.raises(TypeError, match="real_counts"):
        plan_classes(CARD, None, FillTo(MAX))
    with pytest.raises(TypeError, match="real_counts=None"):
        plan_classes(CARD, {"cat": 1}, Requested(1))


def test_class_index_by_name_or_index() -> None:
    assert class_index(MODEL, "eel") == 2 and class_index(MODEL, 3) == 3 and class_index(MODEL, np.int64(0)) == 0
    for bad in ("wolf", 4, -1, True, 1.0):
        with pytest.raises(UnknownClassError):
            class_index(MODEL, bad)
