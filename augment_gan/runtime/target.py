"""The per-class target (``--target``) and the synthetic-share cap (``--max-share``), parsed once.

- ``max``: the largest class's real count;
- ``N``: at least N images per class;
- ``ratio:R``: at least ``ceil(R x the largest class's real count)``.

Used by the one consumer plan (:mod:`augment_gan.runtime.plan`). No torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

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
