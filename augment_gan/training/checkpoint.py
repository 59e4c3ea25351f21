"""Moved to :mod:`augment_gan.run.checkpoint` (the checkpoint format sits below training and evaluation)."""

from augment_gan.run.checkpoint import *  # noqa: F403
from augment_gan.run.checkpoint import __all__  # noqa: F401
