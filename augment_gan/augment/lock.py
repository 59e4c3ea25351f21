"""One augment or clean at a time per folder: an advisory lock on the folder itself."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from augment_gan.errors import AugmentGanError


class FolderBusyError(AugmentGanError):
    """Another augment or clean holds the folder."""


@contextlib.contextmanager
def folder_lock(root: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on the folder itself (no lock file is left behind).

    The kernel drops it when the process dies, so a killed run never leaves a stale lock.
    On platforms without ``fcntl`` this is a no-op.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusyError(
                f"another augment-gan augment or clean is working on {root}; wait for it to finish."
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock
