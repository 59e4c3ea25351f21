"""A run's validated options, and the stream of files it writes (names, entries)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from augment_gan.augment import writer
from augment_gan.contracts.manifest import Entry, StreamKey, new_entry, stream_prefix, synthetic_name
from augment_gan.errors import ConfigError
from augment_gan.runtime.target import Target, parse_max_share, parse_target

SIZES = ("native", "model")


@dataclass(frozen=True)
class Options:
    """What to write (see :meth:`augment_gan.augment.Augmentation.prepare`), checked."""

    target: Target
    max_share: Fraction | None
    fmt: str
    size: str
    seed: int
    batch_size: int
    allow_ungated: bool
    select: bool = True
    follow_links: bool = False  # write into class folders that are symlinks resolving outside the root

    @classmethod
    def parse(
        cls,
        target: str | int,
        max_share: float | None,
        fmt: str,
        size: str,
        seed: int,
        batch_size: int,
        allow_ungated: bool,
        select: bool = True,
        follow_links: bool = False,
    ) -> Options:
        """ConfigError (one line, naming the option) for a bad value."""
        tgt, share = parse_target(target), parse_max_share(max_share)
        if fmt not in writer.FORMATS:
            raise ConfigError(f"--format must be png or jpg, got {fmt!r}.")
        if size not in SIZES:
            raise ConfigError(f"--size must be native or model, got {size!r}.")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"--seed must be a non-negative integer, got {seed!r}.")
        if batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, got {batch_size}.")
        return cls(tgt, share, fmt, size, int(seed), batch_size, allow_ungated, bool(select), bool(follow_links))


@dataclass(frozen=True)
class Stream:
    """The files of one (model, version, seed, format): file index i of class c is sample i."""

    model: str
    version: Any
    seed: int
    fmt: str

    @property
    def prefix(self) -> str:
        return stream_prefix(self.model, self.version, self.seed)

    def key(self, cls: str) -> StreamKey:
        return (cls, self.model, str(self.version), self.seed)

    def rel(self, cls: str, index: int) -> str:
        return f"{cls}/{synthetic_name(self.model, self.version, self.seed, index, self.fmt)}"

    def entry(self, cls: str, index: int, sha256: str) -> Entry:
        return new_entry(self.rel(cls, index), sha256, cls, self.model, self.version, self.seed, index)
