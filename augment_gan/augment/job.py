"""``augment``: fill the small classes of an image folder with gated synthetic images.

:meth:`Augmentation.prepare` reads everything (folder, model, manifest) and makes the
plan without writing (:mod:`~augment_gan.augment.prepare`); :meth:`Augmentation.apply`
carries it out (:mod:`~augment_gan.augment.apply`). Guarantees:

- Real counts exclude generated files, so augmenting never compounds.
- File index i of class c is generated from the latent
  ``np.random.default_rng([seed, c, i]).standard_normal((1, latent_dim))`` (c = the model's
  class index) -- the same sample as ``BalancedDataset``/``SyntheticDataset`` with that
  seed -- so a top-up continues the stream: a second augment with the same target writes 0
  files, a higher target writes only the difference, and nothing is deleted.
- Every file is new (never overwrites) and journaled with its sha256 before it gets its
  name, so after any crash ``clean`` finds it; the manifest is rewritten once at the end,
  on Ctrl-C and on a write error.
- An unrecorded ``synthetic-`` file is adopted when it is this stream's own, else left as it
  is (:mod:`~augment_gan.augment.adopt`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from augment_gan.augment.apply import Applier
from augment_gan.augment.errors import AugmentInterrupted, AugmentWriteError
from augment_gan.augment.options import SIZES, Options
from augment_gan.augment.prepare import Prepared, prepare_augmentation
from augment_gan.augment.report import AugmentPlan, AugmentSummary
from augment_gan.events import Events
from augment_gan.runtime.generator import OnnxGenerator

__all__ = ["SIZES", "AugmentInterrupted", "AugmentWriteError", "Augmentation", "augment", "augment_folder"]


class Augmentation:
    """A prepared augmentation. ``prepare`` reads only; ``apply`` writes.

    Example::

        job = Augmentation.prepare("data/train", "digits", target="max", max_share=0.25)
        print(job.plan.to_dict())
        summary = job.apply()         # summary.total files written
    """

    def __init__(self, prepared: Prepared) -> None:
        self._prepared = prepared
        self._ran = False

    @property
    def plan(self) -> AugmentPlan:
        return self._prepared.plan

    @property
    def generator(self) -> OnnxGenerator:
        return self._prepared.generator

    @classmethod
    def prepare(
        cls,
        data_dir: str | Path,
        model: str | Path | OnnxGenerator,
        *,
        models_dir: str | Path = "models",
        target: str | int = "max",
        classes: Iterable[str] | None = None,
        out: str | Path | None = None,
        fmt: str = "png",
        size: str = "native",
        seed: int = 0,
        max_share: float | None = 0.25,
        allow_ungated: bool = False,
        batch_size: int = 64,
        select: bool = True,
        follow_links: bool = False,
    ) -> Augmentation:
        """Scan, load the model, read the manifest and plan; nothing is written.

        Raises ConfigError (bad option), DataError (bad folder or manifest), ModelError
        (no such model, tampered, or ungated without ``allow_ungated``). A class folder that is
        a symlink resolving outside the folder written to (DATA_DIR, or ``out``) is skipped, and
        named in the plan, unless ``follow_links``.
        """
        opts = Options.parse(target, max_share, fmt, size, seed, batch_size, allow_ungated, select, follow_links)
        return cls(prepare_augmentation(data_dir, model, models_dir, classes, out, opts))

    def apply(self, events: Events | None = None) -> AugmentSummary:
        """Write the planned files; ``events.wrote(class, path)`` after each one.

        Raises AugmentInterrupted on Ctrl-C and AugmentWriteError on a write error, both
        after writing a manifest that lists exactly the files on disk.
        """
        if self._ran:
            raise RuntimeError("an Augmentation applies once; prepare a new one (its plan is out of date).")
        self._ran = True
        return Applier(self._prepared).apply(events or Events())


def augment_folder(
    data_dir: str | Path, model: str | Path | OnnxGenerator, *, events: Events | None = None, **options: Any
) -> AugmentSummary:
    """Plan and apply in one call; ``options`` are :meth:`Augmentation.prepare`'s (target, out, seed, ...).

    Example::

        augment_folder("data/train", "models/digits/v3", target="ratio:0.5", out="data/synthetic").written
    """
    return Augmentation.prepare(data_dir, model, **options).apply(events)


def augment(
    data_dir: str | Path,
    model: str | Path | OnnxGenerator,
    *,
    dry_run: bool = False,
    events: Events | None = None,
    **options: Any,
) -> AugmentSummary | None:
    """``augment-gan augment``: plan, hand the plan to ``events.planned`` (to show it), then
    write it unless ``dry_run``, calling ``events.wrote`` after each file. Returns the summary, or None for a dry run (nothing written).

    Example::

        class Show(Events):
            def planned(self, plan):
                print(plan.to_generate)

        augment("data/train", "digits", max_share=0.25, events=Show())
    """
    job = Augmentation.prepare(data_dir, model, **options)
    events = events or Events()
    events.planned(job.plan)
    return None if dry_run else job.apply(events)
