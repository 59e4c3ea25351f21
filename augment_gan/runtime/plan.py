"""The one consumer plan: which classes get how many synthetic samples, and why a class gets none.

Every consumer asks :func:`plan_classes`: ``augment`` (files in a folder),
:class:`~augment_gan.runtime.balanced.BalancedDataset` and
:class:`~augment_gan.runtime.datasets.SyntheticDataset` (torch Datasets) and the service (one
request at a time). Only *how many* a class wants differs between them:

- :class:`FillTo` (augment): up to the target, the synthetic files at most ``max_share`` of
  the class (``synthetic <= S * real / (1 - S)``, rounded down), less what it already holds;
- :class:`TopUp` (BalancedDataset): ``ceil(target x share)`` samples for each class below the
  target, a pool its sampler draws ``share`` of the class's mass from;
- :class:`Requested` (SyntheticDataset, the service): the counts asked for, by class name or index.

The target is one number for every class: ``max`` (the largest class's real count), ``N``,
or ``ratio:R`` (``ceil(R x`` the largest class's real count)); see :mod:`.target`.

Why a class gets none (:class:`SkipKind`), in the order checked:

1. ``NO_REAL``: a folder class with no real images (only generated ones);
2. ``NOT_SELECTED``: the caller left it out (augment's ``--classes``);
3. ``NOT_IN_MODEL``: a folder class the model does not know (never guessed);
   ``NOT_IN_FOLDER``: a class of the model the folder does not have (never created);
4. only for a class that wants samples: ``GATE_FAILED`` (the quality gate did not pass it; an
   ungated model, where a consumer allows one, passes every class), then ``LINK_OUTSIDE`` (its
   folder resolves outside the folder written to).

A requested label the model does not know is an error (:class:`UnknownClassError`), not a
skip. No torch and no I/O: the service imports this.

Example::

    from augment_gan.runtime.target import parse_target
    plan = plan_classes(card, {"cat": 12, "dog": 6}, FillTo(parse_target("max")))
    plan.target, plan.counts                        # 12, {'dog': 6}
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np

from augment_gan.contracts.model_dir import gate_passed, gate_ran, gate_reasons
from augment_gan.errors import AugmentGanError, ConfigError
from augment_gan.runtime.target import Target, synthetic_cap

# --- how many a class wants -----------------------------------------------------------


@dataclass(frozen=True)
class FillTo:
    """augment: ``target - real``, capped by ``max_share``, less the ``have`` a class already holds."""

    target: Target
    max_share: Fraction | None = None
    have: Mapping[str, int] = field(default_factory=dict)  # synthetic files already there, per class

    def allowed(self, real: int, target: int) -> int:
        """Synthetic files the class should hold in all: the deficit, capped."""
        deficit = max(0, target - real)
        cap = synthetic_cap(real, self.max_share)
        return deficit if cap is None else min(deficit, cap)

    def wants(self, name: str, real: int, target: int) -> int:
        return max(0, self.allowed(real, target) - self.have.get(name, 0))


@dataclass(frozen=True)
class TopUp:
    """BalancedDataset: ``ceil(target x share)`` samples for each class below the target.

    Not the deficit: the sampler gives the synthetic samples ``share`` of the class's mass
    however many there are, so the pool only needs to be big enough to draw from.
    """

    target: Target
    share: float

    def wants(self, name: str, real: int, target: int) -> int:
        return math.ceil(target * self.share) if real < target else 0


@dataclass(frozen=True)
class Requested:
    """SyntheticDataset, the service: a count per class name or index, or one count for every class."""

    counts: Mapping[str | int, int] | int

    def per_class(self, classes: Sequence[str]) -> list[int]:
        """The count for each class of the model, in its order; a later label for the same class wins."""
        counts = self.counts
        if not isinstance(counts, Mapping):
            counts = {i: counts for i in range(len(classes))}
        out = [0] * len(classes)
        for label, n in counts.items():
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise ConfigError(f"the count for class {label!r} must be a non-negative integer, got {n!r}.")
            out[class_index(classes, label)] = int(n)
        return out


Want = FillTo | TopUp | Requested

# --- the model's side: its classes and the gate ----------------------------------------


class UnknownClassError(AugmentGanError, ValueError):
    """A class name or index the model does not know."""


def class_index(classes: Sequence[str], label: str | int) -> int:
    """Index of a class given by name or index; a ValueError-compatible error names the valid ones."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if 0 <= int(label) < len(classes):
            return int(label)
    elif isinstance(label, str) and label in classes:
        return list(classes).index(label)
    raise UnknownClassError(
        f"unknown class {label!r}; this model's classes are {list(classes)} (or their indices 0-{len(classes) - 1})."
    )


def gate_failure(card: Mapping[str, Any], name: str) -> str | None:
    """None when class ``name`` may be generated (the gate passed it, or the model is ungated);
    else the gate's reasons, ``"; "``-joined."""
    if not gate_ran(card) or gate_passed(card, name):
        return None
    return "; ".join(gate_reasons(card, name))


@dataclass(frozen=True)
class ModelClasses:
    """What a plan reads from a model: its classes, and ``gate_failure(name)`` (None: may be generated)."""

    classes: Sequence[str]
    gate_failure: Callable[[str], str | None] = lambda name: None

    @classmethod
    def of(cls, model: Any) -> ModelClasses:
        """From a model card, or anything holding one as ``.card`` (an OnnxGenerator, an Augmenter)."""
        if isinstance(model, ModelClasses):
            return model
        card = getattr(model, "card", model)
        return cls(list(card["classes"]), partial(gate_failure, card))


# --- the plan -------------------------------------------------------------------------


class SkipKind(enum.StrEnum):
    """Why a class gets no synthetic samples (see the module docstring for the order)."""

    NO_REAL = "no_real"
    NOT_SELECTED = "not_selected"
    NOT_IN_MODEL = "not_in_model"
    NOT_IN_FOLDER = "not_in_folder"
    GATE_FAILED = "gate_failed"
    LINK_OUTSIDE = "link_outside"


@dataclass(frozen=True)
class PlannedClass:
    """One class of the plan.

    ``index``: in the model's classes (None: the model does not know it); ``real``: its real
    images in the folder (None: no folder, or not a folder class); ``wanted``: what the
    :data:`Want` gives it; ``count``: what it gets (``wanted``, or 0 when skipped);
    ``detail``: the gate's reasons for ``GATE_FAILED``, where the folder resolves to for
    ``LINK_OUTSIDE``.
    """

    name: str
    index: int | None
    real: int | None
    wanted: int
    count: int
    skip: SkipKind | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ConsumerPlan:
    """The per-class target count (None for :class:`Requested`) and one entry per class."""

    target: int | None
    classes: tuple[PlannedClass, ...]

    @property
    def counts(self) -> dict[str, int]:
        """The classes that get samples, and how many, in plan order."""
        return {c.name: c.count for c in self.classes if c.count}

    @property
    def skipped(self) -> dict[str, PlannedClass]:
        return {c.name: c for c in self.classes if c.skip is not None}


def plan_classes(
    model: Any,
    real_counts: Mapping[str, int] | None,
    want: Want,
    *,
    selected: Iterable[str] | None = None,
    outside: Callable[[str], str | None] | None = None,
) -> ConsumerPlan:
    """Per class: how many synthetic samples, and why none (see the module docstring).

    ``model``: a model card, anything with ``.card`` (an OnnxGenerator) or a
    :class:`ModelClasses`. ``real_counts``: real images per folder class, in folder order
    (None, with :class:`Requested` only: no folder, the model's classes in its order; a
    folder plan lists the model's classes the folder lacks after the folder's).
    ``selected``: only these classes get samples. ``outside(name)``: None when the class
    folder may be written, else why not.

    Example::

        plan = plan_classes(gen, None, Requested({"cat": 2}))   # UnknownClassError for an unknown label
        plan.classes[0].skip                                    # SkipKind.GATE_FAILED if the gate failed cat
    """
    view = ModelClasses.of(model)
    classes = list(view.classes)
    if isinstance(want, Requested):
        if real_counts is not None:
            raise TypeError("Requested counts are planned without a folder: pass real_counts=None.")
        target = None
        rows = [(name, i, None, n) for i, (name, n) in enumerate(zip(classes, want.per_class(classes), strict=True))]
    else:
        if real_counts is None:
            raise TypeError(f"{type(want).__name__} fills a folder's classes: pass its real_counts.")
        target = want.target.resolve(real_counts.values())
        rows = [
            (name, classes.index(name) if name in classes else None, real, want.wants(name, real, target))
            for name, real in real_counts.items()
        ]
    chosen = None if selected is None else set(selected)
    entries = []
    for name, index, real, wanted in rows:
        skip, detail = _skip(view, name, index, real, wanted, chosen, outside)
        entries.append(PlannedClass(name, index, real, wanted, 0 if skip is not None else wanted, skip, detail))
    if real_counts is not None:
        entries += [
            PlannedClass(name, i, None, 0, 0, SkipKind.NOT_IN_FOLDER)
            for i, name in enumerate(classes)
            if name not in real_counts
        ]
    return ConsumerPlan(target, tuple(entries))


def _skip(
    view: ModelClasses,
    name: str,
    index: int | None,
    real: int | None,
    wanted: int,
    chosen: set[str] | None,
    outside: Callable[[str], str | None] | None,
) -> tuple[SkipKind | None, str | None]:
    if real == 0:
        return SkipKind.NO_REAL, None
    if chosen is not None and name not in chosen:
        return SkipKind.NOT_SELECTED, None
    if index is None:
        return SkipKind.NOT_IN_MODEL, None
    if wanted > 0:  # a class that gets nothing anyway is not reported as failed or linked
        if (reason := view.gate_failure(name)) is not None:
            return SkipKind.GATE_FAILED, reason
        if outside is not None and (where := outside(name)) is not None:
            return SkipKind.LINK_OUTSIDE, where
    return None, None
