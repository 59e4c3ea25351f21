"""The plan: how many synthetic images each class of a folder gets, and its reports.

:func:`plan_classes` is the arithmetic alone (pure, no I/O); :class:`AugmentPlan` and
:class:`AugmentSummary` are what ``augment`` prints (table or ``--json``) before and after.

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

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from augment_gan.data.folder import MANIFEST_NAME
from augment_gan.errors import ConfigError

SHARE_WARNING = 0.5
SHARE_ADVICE = (
    "training on a folder that is mostly synthetic, without reweighting, can make a classifier worse "
    "(measured: a 12-image class filled to 400 with GAN samples lowered minority recall from 0.68 to 0.61, "
    "while a 25 % synthetic share with oversampling raised it); cap it with --max-share 0.25, or use "
    "BalancedDataset (Python API), which reweights real and synthetic samples."
)


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
            ratio = Fraction(text[len("ratio:"):].strip())
        except (ValueError, ZeroDivisionError):
            ratio = Fraction(-1)
        if ratio <= 0:
            raise ConfigError(f"--target {text}: R in ratio:R must be a number above 0, e.g. ratio:0.5.")
        return Target("ratio", ratio, text)
    try:
        count = int(text)
    except ValueError:
        raise ConfigError(f"--target must be max, a positive integer N or ratio:R (e.g. ratio:0.5), got {text!r}.") from None
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


@dataclass
class ClassPlan:
    """One folder class in the plan. ``synthetic`` = generated files already recorded."""

    name: str
    real: int
    synthetic: int
    target: int
    generate: int = 0
    skipped: str | None = None
    note: str | None = None
    model_index: int | None = None
    mode: str | None = None  # "L" or "RGB" of the written files
    size: tuple[int, int] | None = None  # (width, height) of the written files

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
    selected: Iterable[str] | None = None,
    max_share: Fraction | None = None,
) -> list[ClassPlan]:
    """Per folder class (in the order of ``real_counts``): target, deficit and why it is skipped.

    ``gate_failure(name)`` returns None when the gate passed the class, else the reason
    (naming the failed metric). ``selected``: only these classes are filled (``--classes``).
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
            plan.skipped = "no real images (only generated ones)"
        elif chosen is not None and name not in chosen:
            plan.skipped = "not selected (--classes)"
        elif plan.model_index is None:
            plan.skipped = "not a class of the model"
        elif allowed > have and (reason := gate_failure(name)) is not None:
            plan.skipped = f"gate failed: {reason}"
        else:
            plan.generate = max(0, allowed - have)
            if cap is not None and cap < wanted:
                plan.note = f"capped at {cap} by --max-share"
            if have > allowed:
                plan.note = (f"already holds {have} synthetic, {have - allowed} more than this plan wants; "
                             "nothing is deleted (`augment-gan clean` removes generated files)")
        plans.append(plan)
    return plans


@dataclass
class AugmentPlan:
    """What a run will do (also the ``--dry-run`` output)."""

    data_dir: Path
    out_dir: Path  # where files and manifest go (data_dir unless --out)
    model_dir: Path
    model: str
    model_version: Any
    gate_ran: bool
    target: str
    target_count: int
    seed: int
    format: str
    size: str
    max_share: float | None
    classes: list[ClassPlan]
    model_classes_not_in_folder: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # manifest entries whose file is missing
    unrecorded: list[str] = field(default_factory=list)  # synthetic-named files not in the manifest
    adoptable: list[str] = field(default_factory=list)  # ... of which this run will adopt
    warnings: list[str] = field(default_factory=list)

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / MANIFEST_NAME

    @property
    def to_generate(self) -> int:
        return sum(c.generate for c in self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir), "out_dir": str(self.out_dir), "manifest": str(self.manifest_path),
            "model": {"dir": str(self.model_dir), "name": self.model, "version": self.model_version,
                      "gate_ran": self.gate_ran},
            "target": {"spec": self.target, "count": self.target_count},
            "seed": self.seed, "format": self.format, "size": self.size, "max_share": self.max_share,
            "classes": [c.to_dict() for c in self.classes],
            "to_generate": self.to_generate,
            "model_classes_not_in_folder": self.model_classes_not_in_folder,
            "manifest_files_gone": self.gone, "unrecorded_synthetic_files": self.unrecorded,
            "adopted": self.adoptable, "warnings": self.warnings,
        }


@dataclass
class AugmentSummary:
    plan: AugmentPlan
    written: dict[str, int]
    seconds: float
    adopted: int = 0
    dropped_gone: int = 0
    temp_removed: int = 0
    collisions: int = 0  # indices skipped because a file of that name appeared meanwhile

    @property
    def total(self) -> int:
        return sum(self.written.values())

    def to_dict(self) -> dict[str, Any]:
        per_class = {}
        for c in self.plan.classes:
            n_syn = c.synthetic + self.written.get(c.name, 0)
            total = c.real + n_syn
            per_class[c.name] = {"real": c.real, "written": self.written.get(c.name, 0), "synthetic": n_syn,
                                 "share": round(n_syn / total, 4) if total else 0.0}
        return {"written": self.total, "seconds": round(self.seconds, 3), "manifest": str(self.plan.manifest_path),
                "adopted": self.adopted, "manifest_files_dropped": self.dropped_gone,
                "temp_files_removed": self.temp_removed, "collisions": self.collisions, "classes": per_class}


def plan_warnings(plan: AugmentPlan) -> list[str]:
    """The warnings the CLI prints before a run (gate, unknown classes, synthetic share, manifest)."""
    out = []
    if not plan.gate_ran:
        out.append(f"model {plan.model_dir} was exported without the quality gate (--allow-ungated): "
                   "every class is generated, none was checked.")
    for c in plan.classes:
        if c.skipped and c.skipped.startswith("gate failed"):
            out.append(f"class {c.name!r} skipped, the quality gate failed it: {c.skipped[len('gate failed: '):]}")
        elif c.skipped == "not a class of the model":
            out.append(f"class {c.name!r} is not a class of the model ({plan.model}): left as it is, not guessed.")
    if plan.model_classes_not_in_folder:
        out.append(f"model classes {plan.model_classes_not_in_folder} are not folders of {plan.data_dir}: "
                   "not created.")
    high = [f"{c.name!r} ({c.share_after:.0%})" for c in plan.classes if c.share_after > SHARE_WARNING]
    if high:
        out.append(f"classes {', '.join(high)} will be more than half synthetic: {SHARE_ADVICE}")
    if plan.gone:
        out.append(f"{len(plan.gone)} file(s) the manifest lists are gone (deleted by hand?): the run drops "
                   f"them from the manifest and does not generate those indices again; e.g. {plan.gone[0]}.")
    if plan.unrecorded:
        out.append(f"{len(plan.unrecorded)} synthetic-named file(s) are not in the manifest and are not this "
                   f"run's to adopt: left as they are, not counted as real images; e.g. {plan.unrecorded[0]}.")
    return out

