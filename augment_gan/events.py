"""The one reporting channel: :class:`Events`, which the library calls as it works and the
CLI implements. Torch-free and importing no stage, so every stage may take one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from augment_gan.augment.report import AugmentPlan
    from augment_gan.data import ImageData
    from augment_gan.pipeline.options import TrainStart


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

    def loaded(self, data: ImageData) -> None:
        """A new run's folder is loaded (``data.skipped``: unusable files left out)."""

    def judging(self) -> None:
        """The domain judge for evaluation during training is about to train (or load)."""

    def judged(self, judge_report: dict[str, Any]) -> None:
        """The judge is ready: its accuracy on held-out real images (``accuracy``, ``n``)."""

    def started(self, start: TrainStart) -> None:
        """The first step is next."""

    def planned(self, plan: AugmentPlan) -> None:
        """``augment`` has planned what to write (shown before anything is written)."""

    def wrote(self, cls: str, path: Path) -> None:
        """``augment`` has published one synthetic file of class ``cls``."""
