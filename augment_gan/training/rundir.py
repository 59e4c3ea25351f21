"""The run dir: ``models/<name>/runs/<run-id>/`` and its config.json / split.json."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from augment_gan.errors import CheckpointError, ConfigError
from augment_gan.fileio import atomic_write_json

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CONFIG_FORMAT = 1


def validate_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ConfigError(
            f"model name {name!r} is invalid: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def runs_root(models_dir: Path, name: str) -> Path:
    return Path(models_dir) / validate_name(name) / "runs"


def create_run_dir(models_dir: Path, name: str) -> Path:
    """A new, empty run dir named by the UTC start time (suffixed if that already exists)."""
    root = runs_root(models_dir, name)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    for i in range(1000):
        run_dir = root / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            run_dir.mkdir(parents=True)
            return run_dir
        except FileExistsError:
            continue
    raise ConfigError(f"could not create a new run dir under {root}.")


def find_latest_run(models_dir: Path, name: str) -> Path:
    """The most recent run dir of ``name`` that has a config.json."""
    root = runs_root(models_dir, name)
    runs = sorted(p for p in root.glob("*") if (p / "config.json").is_file()) if root.is_dir() else []
    if not runs:
        raise CheckpointError(
            f"no run of model {name!r} under {Path(models_dir)}: nothing to resume; "
            "drop --resume to start a new run."
        )
    return runs[-1]


def write_run_config(run_dir: Path, config: dict[str, Any]) -> None:
    atomic_write_json(Path(run_dir) / "config.json", {"format": CONFIG_FORMAT, **config})


def read_run_config(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "config.json"
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{run_dir} is not a run dir (no config.json).") from None
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path} is not valid JSON ({e}).") from None
    if config.get("format") != CONFIG_FORMAT:
        raise CheckpointError(f"{path} has an unknown format {config.get('format')!r}.")
    return config
