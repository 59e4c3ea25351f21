"""Ctrl-C (and torchrun's forwarded SIGTERM) during training: finish the step, then stop."""

from __future__ import annotations

import signal
import threading


class deferred_interrupt:
    """Context manager: the first SIGINT sets an event instead of raising; the second raises.

    ``also_sigterm``: handle SIGTERM the same way (torchrun's workers run in their own
    sessions and get the launcher's SIGINT or SIGTERM forwarded, once). Only installs the
    handlers in the main thread (signal handlers cannot be set elsewhere).
    """

    def __init__(self, also_sigterm: bool = False) -> None:
        self.signals = (signal.SIGINT, signal.SIGTERM) if also_sigterm else (signal.SIGINT,)

    def __enter__(self) -> threading.Event:
        self.event = threading.Event()
        self.previous: dict = {}
        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._handle) for sig in self.signals}
        return self.event

    def _handle(self, signum: int, frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self.previous.items():
            signal.signal(sig, previous)
