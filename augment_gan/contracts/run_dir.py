"""The run dir ``models/<name>/runs/<run-id>/``: every path and file format of it, in one place.

::

    config.json                  the run's spec: data, nets, training, evaluation (format-stamped; RunSpec)
    split.json                   the held-out real images (kept out of training)
    checkpoints/step-XXXXXXX.pt  G, D, EMA-G, optimisers, RNG states (written by training)
    samples/step-XXXXXXX.png     a grid, one row per class, fixed noise
    metrics.jsonl                one JSON record per line: losses, timings, events
    eval/step-XXXXXXX.json       per-class metrics of one checkpoint, with its gate decision
    eval/best.json               the best evaluated step and why
    report.html                  a page to judge one evaluated step by looking

Stages never spell these names; they ask a :class:`RunDir`. This module imports nothing
from the stages (and no torch), so every stage may use it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augment_gan.contracts.reports import EvalReport
from augment_gan.errors import CheckpointError, ConfigError
from augment_gan.fileio import atomic_write_bytes, atomic_write_json, read_stamped_json

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CONFIG_FORMAT = 1
CONFIG_NAME = "config.json"
SPLIT_NAME = "split.json"
METRICS_NAME = "metrics.jsonl"
REPORT_NAME = "report.html"
BEST_NAME = "best.json"
RUNS_FOLDER = "runs"
_STEP_FILE = re.compile(r"^step-(\d{7,})\.(pt|png|json)$")


def step_file(step: int, ext: str) -> str:
    """``step-0000400.pt``: checkpoints, sample grids and eval reports share the stem."""
    return f"step-{step:07d}.{ext}"


@dataclass(frozen=True)
class RunDir:
    """One run dir. ``RunDir(path)`` reads nothing; the methods do.

    Example::

        run = RunDir("models/digits/runs/20260101-120000")
        run.checkpoint(400), run.eval_report(400), run.read_config()["name"]

    The typed view of ``config.json`` is ``augment_gan.run.RunSpec``; a whole opened run, ``augment_gan.run.Run``.
    """

    root: Path

    def __init__(self, root: str | Path) -> None:
        object.__setattr__(self, "root", Path(root))

    # --- paths ----------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def split_path(self) -> Path:
        return self.root / SPLIT_NAME

    @property
    def metrics_path(self) -> Path:
        return self.root / METRICS_NAME

    @property
    def report_path(self) -> Path:
        return self.root / REPORT_NAME

    @property
    def checkpoints_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def samples_dir(self) -> Path:
        return self.root / "samples"

    @property
    def eval_dir(self) -> Path:
        return self.root / "eval"

    @property
    def best_path(self) -> Path:
        return self.eval_dir / BEST_NAME

    @property
    def models_dir(self) -> Path:
        """``models/<name>/runs/<run-id>`` -> ``models``."""
        return self.root.resolve().parent.parent.parent

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints_dir / step_file(step, "pt")

    def sample_grid(self, step: int) -> Path:
        return self.samples_dir / step_file(step, "png")

    def eval_report(self, step: int) -> Path:
        return self.eval_dir / step_file(step, "json")

    def checkpoints(self) -> list[tuple[int, Path]]:
        """(step, path) of every checkpoint file, oldest first; temp files ignored."""
        return _steps_in(self.checkpoints_dir, "pt")

    def eval_reports(self) -> list[tuple[int, Path]]:
        """(step, path) of every evaluated step, oldest first."""
        return _steps_in(self.eval_dir, "json")

    # --- files ----------------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        atomic_write_json(self.config_path, {"format": CONFIG_FORMAT, **config})

    def read_config(self) -> dict[str, Any]:
        return read_stamped_json(
            self.config_path, CONFIG_FORMAT, CheckpointError, f"{self.root} is not a run dir (no {CONFIG_NAME})."
        )

    def write_split(self, fraction: float, seed: int, holdout: list[str]) -> None:
        atomic_write_json(self.split_path, {"fraction": fraction, "seed": seed, "holdout": holdout})

    def read_holdout(self) -> set[str]:
        """The paths of the held-out real images."""
        return set(json.loads(self.split_path.read_text())["holdout"])

    def append_metrics(self, record: dict[str, Any]) -> None:
        """Append one record to metrics.jsonl (flushed line by line)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every record of metrics.jsonl; a torn last line (a kill mid-write) is skipped."""
        if not self.metrics_path.is_file():
            return []
        records = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_metrics(self, step: int) -> None:
        """Drop records after ``step`` (a resumed run redoes those steps and logs them again)."""
        kept = [json.dumps(r) for r in self.read_metrics() if r["step"] <= step]
        if self.metrics_path.exists():
            atomic_write_bytes(self.metrics_path, ("\n".join(kept) + "\n" if kept else "").encode())

    def write_eval_report(self, step: int, report: EvalReport) -> None:
        atomic_write_json(self.eval_report(step), report)

    def read_eval_report(self, step: int) -> EvalReport:
        path = self.eval_report(step)
        if not path.is_file():
            raise CheckpointError(
                f"checkpoint step {step} has not been evaluated; run "
                f"`augment-gan evaluate {self.root} --checkpoint {step}` first."
            )
        return json.loads(path.read_text())

    def read_eval_reports(self) -> list[EvalReport]:
        """Every evaluated step's report, oldest first."""
        return [json.loads(p.read_text()) for _, p in self.eval_reports()]

    def write_best(self, best: dict[str, Any]) -> None:
        atomic_write_json(self.best_path, best)

    def read_best(self) -> dict[str, Any]:
        if not self.best_path.is_file():
            raise CheckpointError(
                f"run {self.root} has no evaluated checkpoints; run `augment-gan evaluate {self.root} "
                "--checkpoint all` or pass --checkpoint STEP."
            )
        return json.loads(self.best_path.read_text())


def _steps_in(folder: Path, ext: str) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _STEP_FILE.match(p.name)
        if m and m.group(2) == ext:
            found.append((int(m.group(1)), p))
    return sorted(found)


def validate_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ConfigError(
            f"model name {name!r} is invalid: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def runs_root(models_dir: Path, name: str) -> Path:
    return Path(models_dir) / validate_name(name) / RUNS_FOLDER


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
    runs = sorted(p for p in root.glob("*") if RunDir(p).config_path.is_file()) if root.is_dir() else []
    if not runs:
        raise CheckpointError(
            f"no run of model {name!r} under {Path(models_dir)}: nothing to resume; "
            "start a new run with `augment-gan train`."
        )
    return runs[-1]
