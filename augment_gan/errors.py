"""User-facing errors.

Anything a user can cause (a bad folder, a bad flag, a missing weights file) raises a
subclass of :class:`AugmentGanError` with one sentence that says what to do. The CLI prints
that sentence and exits 1; bugs still raise ordinary exceptions with a traceback.
"""


class AugmentGanError(Exception):
    """Base class for errors caused by user input or the user's files."""


class DataError(AugmentGanError):
    """The image folder cannot be used as given."""


class ConfigError(AugmentGanError):
    """An option or a configuration value is invalid."""


class CheckpointError(AugmentGanError):
    """A run dir or checkpoint is missing, incomplete or incompatible."""


class WeightsNotFoundError(AugmentGanError):
    """A pretrained weights file that must be provided locally is missing."""
