"""The one reporting channel: :class:`Events`, which the library calls as it works and the
CLI implements. Torch-free and importing no stage (not even for types: ``loaded`` gets an
``augment_gan.data.ImageData``, ``planned`` an ``augment_gan.augment.AugmentPlan``), so
every stage may take one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainStart:
    """What a run starts with: printed by the CLI before the first step."""

    run_dir: Path
    counts: list[int]  # training images per class
    resolution: int
    channels: int
    device: str
    precision: str
    channels_last: bool
    start: int  # the step it resumes at; 0 for a new run
    world_size: int
    backend: str | None
    batch_size: int  # the global batch
    lr_g: float
    lr_d: float


class Events:
    """What the library reports while it works (rank 0 only); silent here.

    The one reporting channel of ``train``, ``resume``, ``run`` and ``augment``: the CLI
    implements it with rich (``cli/printing.py``, ``cli/consumers.py``); the library never
    owns a console. ``progress``: whether long loops draw progress bars."""

    progress: bool = False

    def stage(self, title: str) -> None:
        """A numbered step of the whole job begins (``run``)."""

    def note(self, text: str) -> None:
        """A line worth showing: where a file went, what was decided."""

    def loaded(self, data: Any) -> None:
        """A new run's folder is loaded (``data.skipped``: unusable files left out)."""

    def judging(self) -> None:
        """The domain judge for evaluation during training is about to train (or load)."""

    def judged(self, judge_report: dict[str, Any]) -> None:
        """The judge is ready: its accuracy on held-out real images (``accuracy``, ``n``)."""

    def started(self, start: TrainStart) -> None:
        """The first step is next."""

    def planned(self, plan: Any) -> None:
        """``augment`` has planned what to write (shown before anything is written)."""

    def wrote(self, cls: str, path: Path) -> None:
        """``augment`` has published one synthetic file of class ``cls``."""
