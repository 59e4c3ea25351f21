"""Moved to :mod:`augment_gan.run.samples` (sample grids are a run-dir artifact training and evaluation share)."""

from augment_gan.run.samples import *  # noqa: F403
from augment_gan.run.samples import __all__  # noqa: F401
