"""How an augment that started writing ends early: a write error, or an interrupt."""

from __future__ import annotations

from pathlib import Path

from augment_gan.errors import AugmentGanError


class AugmentWriteError(AugmentGanError):
    """The target folder could not be written (read-only, full, ...); what was written is recorded."""


class AugmentInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM via the CLI) during apply; the manifest matches the files written."""

    def __init__(self, written: int, manifest: Path) -> None:
        super().__init__(f"interrupted after {written} files; the manifest {manifest} lists them.")
        self.written = written
        self.manifest = manifest
