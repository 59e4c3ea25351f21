"""Config fields that are command-line options: the help text lives on the field, beside its
why-comment, and the CLI generates the option from it (``cli/options.py``'s ``field_options``).

Example::

    @dataclass(frozen=True)
    class TrainConfig:
        steps: int = option(2000, "Total generator steps.")
        holdout_fraction: float = option(0.1, "Share of each class held out.", name="holdout")
"""

from __future__ import annotations

from dataclasses import field
from typing import Any


def option(default: Any, help: str, *, name: str | None = None) -> Any:
    """A dataclass field with ``default``, offered on the command line as ``--<name>``
    (default: the field's name, dashed) with ``help``."""
    return field(default=default, metadata={"help": help, "option": name})
