"""Balance an image folder with a model dir's gated synthetic images, and undo it.

- :func:`augment` (``augment-gan augment``), :func:`augment_folder`, :class:`Augmentation`:
  plan and write;
- :func:`clean` / :func:`clean_folder` (``augment-gan clean``): remove exactly the generated
  files still unmodified;
- :func:`plan_classes`, :func:`parse_target`: the plan arithmetic alone.

The manifest format (and its crash journal) is owned by :mod:`augment_gan.contracts.manifest`.

Example::

    from augment_gan.augment import augment_folder, clean_folder
    summary = augment_folder("data/train", "digits", target="max", max_share=0.25)
    summary.written            # {'7': 13, '8': 10, ...}
    clean_folder("data/train").removed
"""

from augment_gan.augment.clean import CleanOutcome, CleanResult, clean_folder
from augment_gan.augment.errors import AugmentInterrupted, AugmentWriteError
from augment_gan.augment.job import Augmentation, augment, augment_folder
from augment_gan.augment.lock import FolderBusyError
from augment_gan.augment.plan import ClassPlan, SkipKind, Target, parse_max_share, parse_target, plan_classes
from augment_gan.augment.report import AugmentPlan, AugmentSummary
from augment_gan.contracts.manifest import synthetic_name

clean = clean_folder  # ``augment-gan clean``'s twin, by the command's name

__all__ = [
    "AugmentInterrupted",
    "AugmentPlan",
    "AugmentSummary",
    "AugmentWriteError",
    "Augmentation",
    "ClassPlan",
    "CleanOutcome",
    "CleanResult",
    "FolderBusyError",
    "SkipKind",
    "Target",
    "augment",
    "augment_folder",
    "clean",
    "clean_folder",
    "parse_max_share",
    "parse_target",
    "plan_classes",
    "synthetic_name",
]
