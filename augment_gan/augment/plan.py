"""augment's plan: how many synthetic files each class of a folder gets (pure, no I/O).

The rule itself (target, ``--max-share`` cap, every skip and its order) is the one consumer
plan, :func:`augment_gan.runtime.plan.plan_classes` with :class:`~augment_gan.runtime.plan.FillTo`;
this module turns its entries into :class:`ClassPlan` rows with the notes and messages that
:mod:`augment_gan.augment.report` (the plan and summary ``augment`` prints) is made from.

Counts that go in: each folder class's *real* images (the scanner's count, generated files
excluded) and the generated files the manifest already records for it. A class wants
``target - real`` synthetic images in all (the target: :mod:`augment_gan.runtime.target`);
``max_share`` S caps that so the synthetic files are at most S of the class's images
(``synthetic <= S * real / (1 - S)``, rounded down). What the manifest already holds is
subtracted; nothing is ever deleted, so a class that holds more than the plan wants just
gets 0 and a note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from augment_gan.runtime import plan as consumer_plan
from augment_gan.runtime.plan import FillTo, ModelClasses, SkipKind
from augment_gan.runtime.target import Target, parse_max_share, parse_target, synthetic_cap

__all__ = [
    "ClassPlan",
    "SkipKind",
    "Target",
    "parse_max_share",
    "parse_target",
    "plan_classes",
    "synthetic_cap",
]

_SKIP_MESSAGES = {
    SkipKind.NO_REAL: "no real images (only generated ones)",
    SkipKind.NOT_SELECTED: "not selected (--classes)",
    SkipKind.NOT_IN_MODEL: "not a class of the model",
    SkipKind.NOT_IN_FOLDER: "not a folder of DATA_DIR",
    SkipKind.GATE_FAILED: "gate failed",
    SkipKind.LINK_OUTSIDE: "class folder is a symlink",
}


@dataclass
class ClassPlan:
    """One folder class in the plan. ``synthetic`` = generated files already recorded.

    ``skip`` says why it gets nothing (None: it is filled); ``skip_detail`` is the gate's
    reason for :attr:`SkipKind.GATE_FAILED`, where the folder resolves to for
    :attr:`SkipKind.LINK_OUTSIDE`.
    """

    name: str
    real: int
    synthetic: int
    target: int
    generate: int = 0
    skip: SkipKind | None = None
    skip_detail: str | None = None
    note: str | None = None
    model_index: int | None = None
    mode: str | None = None  # "L" or "RGB" of the written files
    size: tuple[int, int] | None = None  # (width, height) of the written files

    @property
    def skipped(self) -> str | None:
        """Why the class is skipped, for people (e.g. ``gate failed: kid 0.08 > 0.05``); None if not."""
        if self.skip is None:
            return None
        message = _SKIP_MESSAGES[self.skip]
        return f"{message}: {self.skip_detail}" if self.skip_detail else message

    @property
    def synthetic_after(self) -> int:
        return self.synthetic + self.generate

    @property
    def share_after(self) -> float:
        """Share of the class's images that are synthetic once the plan has run."""
        total = self.real + self.synthetic_after
        return self.synthetic_after / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "real": self.real,
            "synthetic": self.synthetic,
            "target": self.target,
            "generate": self.generate,
            "synthetic_after": self.synthetic_after,
            "share_after": round(self.share_after, 4),
            "skipped": self.skipped,
            "note": self.note,
            "output": None if self.size is None else {"width": self.size[0], "height": self.size[1], "mode": self.mode},
        }


def plan_classes(
    real_counts: dict[str, int],
    synthetic_counts: dict[str, int],
    target: Target,
    *,
    model_classes: list[str],
    gate_failure: Callable[[str], str | None] = lambda name: None,
    outside: Callable[[str], str | None] = lambda name: None,
    selected: Iterable[str] | None = None,
    max_share: Fraction | None = None,
) -> list[ClassPlan]:
    """Per folder class (in the order of ``real_counts``): target, deficit and why it is skipped.

    ``gate_failure(name)`` returns None when the gate passed the class, else the reason
    (naming the failed metric). ``outside(name)`` returns None when the class folder may be
    written, else why not (a symlink resolving outside the folder written to). ``selected``:
    only these classes are filled (``--classes``). The model's classes the folder lacks are
    not rows here (:attr:`AugmentPlan.model_classes_not_in_folder` lists them).
    """
    fill = FillTo(target, max_share, synthetic_counts)
    plan = consumer_plan.plan_classes(
        ModelClasses(model_classes, gate_failure), real_counts, fill, selected=selected, outside=outside
    )
    rows = []
    for entry in plan.classes:
        if entry.skip is SkipKind.NOT_IN_FOLDER:
            continue
        row = ClassPlan(entry.name, entry.real, synthetic_counts.get(entry.name, 0), plan.target)
        row.model_index, row.generate, row.skip, row.skip_detail = entry.index, entry.count, entry.skip, entry.detail
        if entry.skip is None:
            row.note = _note(fill, row)
        rows.append(row)
    return rows


def _note(fill: FillTo, row: ClassPlan) -> str | None:
    """Why a class that is filled gets fewer than its deficit: the cap, or what it already holds."""
    allowed = fill.allowed(row.real, row.target)
    if row.synthetic > allowed:
        return (
            f"already holds {row.synthetic} synthetic, {row.synthetic - allowed} more than this plan wants; "
            "nothing is deleted (`augment-gan clean` removes generated files)"
        )
    cap = synthetic_cap(row.real, fill.max_share)
    if cap is not None and cap < row.target - row.real:
        return f"capped at {cap} by --max-share"
    return None
