"""The pipeline's own options, beside the saved configs (NetConfig, TrainConfig, EvalConfig,
GateThresholds): how a run trains, how it is evaluated while it trains, what it reports as it
goes, how a folder is balanced. No torch: the CLI takes its defaults from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from augment_gan.errors import ConfigError
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.gate import GateThresholds

if TYPE_CHECKING:
    from augment_gan.data import ImageData
    from augment_gan.pipeline.fit import TrainStart

MODELS_DIR = Path("models")  # the default root of run dirs and model dirs


@dataclass(frozen=True)
class Runtime:
    """Where and how a run trains. None of it is saved with the run, so a resume may change it.

    ``nproc_per_node`` > 0 re-launches the command line (``argv``) under torchrun with N
    processes per node (DDP); ``nnodes`` > 1 needs ``rdzv_endpoint`` (HOST:PORT of any node).
    """

    device: str = "auto"
    precision: str = "auto"  # auto: bf16 autocast on a CUDA GPU that has it
    channels_last: bool | None = None  # None: on with CUDA
    nproc_per_node: int = 0
    nnodes: str = "1"
    rdzv_endpoint: str | None = None
    argv: tuple[str, ...] = ()
    log: str = "none"  # "tensorboard": live logs in <run dir>/tensorboard (the tensorboard extra)


@dataclass(frozen=True)
class TrainEval:
    """Evaluate and gate the EMA generator every ``every`` steps while training (0: off).

    ``every`` must be a multiple of the run's ``checkpoint_every``; the last step is always
    evaluated. The evaluation's seed is the run's seed.
    """

    every: int = 0
    samples_per_class: int = EvalConfig.samples_per_class
    judge_steps: int = EvalConfig.judge_steps
    thresholds: GateThresholds = field(default_factory=GateThresholds)

    def config(self, seed: int) -> EvalConfig:
        return EvalConfig(samples_per_class=self.samples_per_class, judge_steps=self.judge_steps, seed=seed)


class TrainEvents:
    """What ``train`` and ``resume`` report while they run, on rank 0; silent here (the CLI prints)."""

    def skipped(self, data: ImageData) -> None:
        """The folder had unusable files (``data.skipped``); they are left out."""

    def judging(self) -> None:
        """The domain judge for evaluation during training is about to train (or load)."""

    def judged(self, judge_report: dict[str, Any]) -> None:
        """The judge is ready: its accuracy on held-out real images (``accuracy``, ``n``)."""

    def started(self, start: TrainStart) -> None:
        """The first step is next."""


@dataclass(frozen=True)
class Balance:
    """The last, optional stage: fill the small classes with the promoted model's samples.

    ``out``: write only the synthetic files there (``augment --out``), the folder untouched;
    ``copy_to``: copy the whole folder there first and balance the copy. With neither, the
    folder itself is balanced (undo with ``augment-gan clean``).
    """

    target: str | int = "max"
    max_share: float | None = 0.25
    out: Path | None = None
    copy_to: Path | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.out is not None and self.copy_to is not None:
            raise ConfigError("balance into --out or into a copy of the folder, not both.")
