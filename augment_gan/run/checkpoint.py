"""Checkpoint files: atomic save, safe load (``weights_only=True``), newest-valid lookup."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import CheckpointError
from augment_gan.fileio import atomic_write

__all__ = [
    "CHECKPOINT_FORMAT",
    "checkpoint_path",
    "save_checkpoint",
    "load_checkpoint",
    "list_checkpoints",
    "load_latest_checkpoint",
    "resolve_checkpoint",
]

CHECKPOINT_FORMAT = 1


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return RunDir(run_dir).checkpoint(step)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically: a kill mid-write leaves the previous checkpoints intact."""
    state = {"format": CHECKPOINT_FORMAT, **state}
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` (no arbitrary code from the file)."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist.") from None
    except Exception as e:  # truncated zip, pickle error, ...
        raise CheckpointError(f"checkpoint {path} is unreadable ({type(e).__name__}).") from e
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not an augment-gan checkpoint of format {CHECKPOINT_FORMAT}.")
    return state


def list_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint file in the run, oldest first; temp files ignored."""
    return RunDir(run_dir).checkpoints()


def load_latest_checkpoint(
    run_dir: Path, map_location: str | torch.device = "cpu"
) -> tuple[int, dict[str, Any]] | None:
    """The newest checkpoint that loads; unreadable ones are skipped with a warning."""
    for step, path in reversed(list_checkpoints(run_dir)):
        try:
            return step, load_checkpoint(path, map_location)
        except CheckpointError as e:
            warnings.warn(f"skipping {e}", stacklevel=2)
    return None


def resolve_checkpoint(run_dir: Path, which: str | int = "latest") -> tuple[int, Path]:
    """'latest' or a step number -> (step, path); a clear error when it does not exist."""
    found = list_checkpoints(run_dir)
    if not found:
        raise CheckpointError(f"run dir {run_dir} has no checkpoints.")
    if which == "latest":
        return found[-1]
    try:
        step = int(which)
    except ValueError:
        raise CheckpointError(f"checkpoint must be 'latest' or a step number, got {which!r}.") from None
    for s, p in found:
        if s == step:
            return s, p
    steps = ", ".join(str(s) for s, _ in found)
    raise CheckpointError(f"run dir {run_dir} has no checkpoint at step {step} (it has: {steps}).")
