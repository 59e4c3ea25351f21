"""The plan arithmetic: how many synthetic images each class of a folder gets (pure, no I/O).

:func:`plan_classes` is what :mod:`augment_gan.augment.report` (the plan and summary
``augment`` prints) is made from.

Counts that go in: each folder class's *real* images (the scanner's count, generated files
excluded) and the generated files the manifest already records for it. The target is one
number for every class:

- ``max``: the largest class's real count;
- ``N``: at least N images per class;
- ``ratio:R``: at least ``ceil(R x the largest class's real count)``.

A class wants ``target - real`` synthetic images in all; ``max_share`` S caps that so the
synthetic files are at most S of the class's images (``synthetic <= S * real / (1 - S)``,
rounded down). What the manifest already holds is subtracted; nothing is ever deleted, so
a class that holds more than the plan wants just gets 0 and a note.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from augment_gan.errors import ConfigError


@dataclass(frozen=True)
class Target:
    """A parsed ``--target``: ``kind`` max, count or ratio."""

    kind: Literal["max", "count", "ratio"]
    value: Fraction | int | None
    text: str

    def resolve(self, real_counts: Iterable[int]) -> int:
        """The per-class target count for a folder with these real counts."""
        largest = max(real_counts, default=0)
        if self.kind == "max":
            return largest
        if self.kind == "count":
            return int(self.value)  # type: ignore[arg-type]
        return math.ceil(self.value * largest)  # type: ignore[operator]


def parse_target(target: str | int) -> Target:
    """``"max"``, a positive integer (``"500"`` or 500) or ``"ratio:R"`` with R > 0.

    Example::

        parse_target("ratio:0.5").resolve([12, 8, 6])   # 6
    """
    if isinstance(target, bool):
        raise ConfigError(f"target must be max, a positive integer N or ratio:R, got {target!r}.")
    text = str(target).strip()
    if text == "max":
        return Target("max", None, text)
    if text.startswith("ratio:"):
        try:
            ratio = Fraction(text[len("ratio:") :].strip())
        except (ValueError, ZeroDivisionError):
            ratio = Fraction(-1)
        if ratio <= 0:
            raise ConfigError(f"--target {text}: R in ratio:R must be a number above 0, e.g. ratio:0.5.")
        return Target("ratio", ratio, text)
    try:
        count = int(text)
    except ValueError:
        raise ConfigError(
            f"--target must be max, a positive integer N or ratio:R (e.g. ratio:0.5), got {text!r}."
        ) from None
    if count < 1:
        raise ConfigError(f"--target N must be at least 1, got {count}.")
    return Target("count", count, text)


def parse_max_share(max_share: float | str | None) -> Fraction | None:
    """``None`` (no cap) or a share in [0, 1] as an exact fraction (1 means no cap)."""
    if max_share is None:
        return None
    try:
        share = Fraction(str(max_share))
    except (ValueError, ZeroDivisionError):
        share = Fraction(-1)
    if not 0 <= share <= 1:
        raise ConfigError(f"--max-share must be a number from 0 to 1 (e.g. 0.25), got {max_share!r}.")
    return None if share == 1 else share


def synthetic_cap(real: int, max_share: Fraction | None) -> int | None:
    """Most synthetic files a class of ``real`` images may hold so they are <= max_share of it."""
    if max_share is None:
        return None
    return math.floor(max_share * real / (1 - max_share))


class SkipKind(enum.StrEnum):
    """Why a class of the folder gets no files (see :attr:`ClassPlan.skipped` for the message)."""

    NO_REAL = "no_real"
    NOT_SELECTED = "not_selected"
    NOT_IN_MODEL = "not_in_model"
    GATE_FAILED = "gate_failed"
    LINK_OUTSIDE = "link_outside"


_SKIP_MESSAGES = {
    SkipKind.NO_REAL: "no real images (only generated ones)",
    SkipKind.NOT_SELECTED: "not selected (--classes)",
    SkipKind.NOT_IN_MODEL: "not a class of the model",
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
    written, else why not (a symlink resolving outside the folder written to). ``selected``: only these classes are filled (``--classes``).
    """
    count = target.resolve(real_counts.values())
    chosen = None if selected is None else set(selected)
    plans = []
    for name, real in real_counts.items():
        have = synthetic_counts.get(name, 0)
        plan = ClassPlan(name, real, have, count)
        if name in model_classes:
            plan.model_index = model_classes.index(name)
        wanted = max(0, count - real)
        cap = synthetic_cap(real, max_share)
        allowed = wanted if cap is None else min(wanted, cap)
        if real == 0:
            plan.skip = SkipKind.NO_REAL
        elif chosen is not None and name not in chosen:
            plan.skip = SkipKind.NOT_SELECTED
        elif plan.model_index is None:
            plan.skip = SkipKind.NOT_IN_MODEL
        elif allowed > have and (reason := gate_failure(name)) is not None:
            plan.skip, plan.skip_detail = SkipKind.GATE_FAILED, reason
        elif allowed > have and (where := outside(name)) is not None:
            plan.skip, plan.skip_detail = SkipKind.LINK_OUTSIDE, where
        else:
            plan.generate = max(0, allowed - have)
            if cap is not None and cap < wanted:
                plan.note = f"capped at {cap} by --max-share"
            if have > allowed:
                plan.note = (
                    f"already holds {have} synthetic, {have - allowed} more than this plan wants; "
                    "nothing is deleted (`augment-gan clean` removes generated files)"
                )
        plans.append(plan)
    return plans
