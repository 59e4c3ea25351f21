"""A run's one spec: every setting a training run was made with, saved as its ``config.json``.

Modelled on stylegan2-ada's one ``args`` object saved as ``training_options.json``: the
CLI, ``pipeline.train`` and ``pipeline.run`` build a :class:`RunSpec`, the run dir keeps
it, and every later stage (resume, evaluate, promote, export) reads it back typed instead
of subscripting a dict. No torch here.

``resume`` trains with the saved spec. What a resumed run may change is only what cannot
change the weights (:data:`RESUMABLE`: the step and time budgets, the checkpoint and log cadence,
the grid's width, the evaluation schedule); anything else given differently is refused by
name (:class:`SettingsChanged`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import ConfigError
from augment_gan.nets.config import NetConfig
from augment_gan.run.train_config import TrainConfig

CHANNELS = ("auto", "1", "3")
# TrainConfig fields a resumed run may change: none of them touches the weights it reaches.
RESUMABLE = frozenset({"steps", "minutes", "checkpoint_every", "log_every", "sample_columns"})
EVAL_SAMPLES = 500  # generated samples per class an evaluation measures (EvalConfig's default too)
JUDGE_STEPS = 400  # the domain judge's training steps (EvalConfig's and JudgeConfig's default too)


@dataclass(frozen=True)
class DataSpec:
    """The folder a run trained on, as it was when the run started."""

    root: str
    key: str  # the decoded cache's key: a changed folder has another
    classes: tuple[str, ...]
    counts: dict[str, int]  # images per class when the run started
    resolution: int
    channels: int
    channels_requested: str | int = "auto"  # what the folder was loaded with (resume reloads it so)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataSpec:
        return cls(
            str(d["root"]),
            str(d["key"]),
            tuple(d["classes"]),
            {str(c): int(n) for c, n in d["counts"].items()},
            int(d["resolution"]),
            int(d["channels"]),
            d.get("channels_requested", "auto"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "classes": list(self.classes), "counts": dict(self.counts)}


@dataclass(frozen=True)
class EvalSchedule:
    """Evaluation while training: every ``every`` steps (0: off; a multiple of the run's
    ``checkpoint_every``) and at the last step, ``samples_per_class`` samples, a judge
    trained ``judge_steps`` steps. Saved so a resume keeps evaluating as the run did;
    it may change on resume (it does not touch the weights)."""

    every: int = 0
    samples_per_class: int = EVAL_SAMPLES
    judge_steps: int = JUDGE_STEPS

    def __post_init__(self) -> None:
        if self.every < 0 or self.samples_per_class < 2 or self.judge_steps < 1:
            raise ConfigError("eval-every must be >= 0, eval-samples >= 2 and judge-steps >= 1.")


@dataclass(frozen=True)
class RunSpec:
    """Everything a run was made with. ``RunSpec.read(run_dir)`` / ``spec.write(run_dir)``."""

    name: str
    data: DataSpec
    net: NetConfig
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluation: EvalSchedule = field(default_factory=EvalSchedule)
    augment_gan_version: str = ""

    def __post_init__(self) -> None:
        if self.data.resolution != self.net.resolution:  # D would sum-pool the wrong size without a word
            raise ConfigError(
                f"the folder was loaded at {self.data.resolution} px but the nets are built for "
                f"{self.net.resolution} px; load it with resolution={self.net.resolution}."
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "augment_gan_version": self.augment_gan_version,
            "data": self.data.to_dict(),
            "net": self.net.to_dict(),
            "train": self.train.to_dict(),
            "evaluation": asdict(self.evaluation),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunSpec:
        """Read a saved config; a run saved before a field existed reads with that field's default."""
        return cls(
            name=d["name"],
            data=DataSpec.from_dict(d["data"]),
            net=NetConfig.from_dict(d["net"]),
            train=TrainConfig.from_dict(d["train"]),
            evaluation=EvalSchedule(**d.get("evaluation", {})),
            augment_gan_version=d.get("augment_gan_version", ""),
        )

    @classmethod
    def read(cls, run_dir: str | Path) -> RunSpec:
        return cls.from_dict(RunDir(run_dir).read_config())

    def write(self, run_dir: str | Path) -> None:
        RunDir(run_dir).write_config(self.to_dict())

    def with_changes(
        self, *, train: Mapping[str, Any] | None = None, evaluation: EvalSchedule | None = None
    ) -> RunSpec:
        """This spec with resumable TrainConfig fields (and the evaluation schedule) replaced."""
        train = dict(train or {})
        fixed = sorted(set(train) - RESUMABLE)
        if fixed:
            raise ConfigError(f"a resumed run cannot change {', '.join(fixed)}.")
        return replace(self, train=replace(self.train, **train), evaluation=evaluation or self.evaluation)


class SettingsChanged(ConfigError):
    """Settings given for a resumed run that differ from the ones it was saved with."""

    def __init__(self, run_dir: Path, changes: list[tuple[str, Any, Any]]) -> None:
        self.run_dir, self.changes = Path(run_dir), changes  # (field, given, saved)
        super().__init__(self.describe())

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """The one-line message; ``names`` spells a field as the caller's option (``lr_g`` -> ``--lr-g``)."""
        names = names or {}
        listed = ", ".join(f"{names.get(f, f)} {given} (run: {saved})" for f, given, saved in self.changes)
        return (
            f"run {self.run_dir} resumes with the settings it was saved with, and "
            f"{'this differs' if len(self.changes) == 1 else 'these differ'}: {listed}; "
            "drop them to resume it, or start a new run."
        )


def check_unchanged(
    run_dir: Path,
    *,
    net: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    channels: str | None = None,
) -> None:
    """SettingsChanged naming every given NetConfig / TrainConfig field (and ``channels``)
    whose value differs from the run's saved spec; the :data:`RESUMABLE` ones may change."""
    spec = RunSpec.read(run_dir)
    saved = {**spec.net.to_dict(), **spec.train.to_dict(), "channels": spec.data.channels_requested}
    given = {**(net or {}), **{k: v for k, v in (train or {}).items() if k not in RESUMABLE}}
    if channels is not None:
        given["channels"] = channels
    changes = [(k, v, saved.get(k)) for k, v in given.items() if v != saved.get(k)]
    if changes:
        raise SettingsChanged(run_dir, changes)
