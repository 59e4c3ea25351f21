"""The pipeline's own options, beside the run's spec (``augment_gan.run.RunSpec``): where a run
trains (:class:`Placement`), how it is evaluated while it trains (:class:`TrainEval`), what it
reports as it goes (:class:`Events`), how a folder is balanced (:class:`Balance`). No torch:
the CLI takes its defaults from here."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from augment_gan.errors import ConfigError
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.gate import GateThresholds
from augment_gan.events import Events, TrainStart  # noqa: F401  (re-exported: how the pipeline reports)
from augment_gan.fields import option
from augment_gan.run.spec import EvalSchedule

MODELS_DIR = Path("models")  # the default root of run dirs and model dirs
# `run`'s time budget (TrainConfig.minutes) unless one is given: the whole job on a small folder
# should end in about 12 minutes on 2 CPU cores (promotion, the utility check and balancing take
# 1-2 more); a GPU finishes the default 2,000 steps long before it
RUN_MINUTES = 9.0


@dataclass(frozen=True)
class Placement:
    """Where and how a run trains. None of it is saved with the run, so a resume may change it.

    ``nproc_per_node`` > 0 re-launches the command line (``argv``) under torchrun with N
    processes per node (DDP); ``nnodes`` > 1 needs ``rdzv_endpoint`` (HOST:PORT of any node).
    """

    device: str = option("auto", "auto, cpu or cuda.")
    precision: str = option("auto", "auto, fp32 or bf16 (auto: bf16 autocast on a CUDA GPU that has it).")
    channels_last: Optional[bool] = option(None, "channels_last memory format (default: on with CUDA).")
    nproc_per_node: int = option(
        0, "Re-launch through torchrun with N processes per node (DDP; N GPUs, or CPU processes)."
    )
    nnodes: str = option("1", "torchrun --nnodes: machines in the job (run the same command on each).")
    rdzv_endpoint: Optional[str] = option(None, "torchrun rendezvous HOST:PORT (any one node) for --nnodes > 1.")
    argv: tuple[str, ...] = ()  # the command line to re-launch (the CLI's sys.argv)
    log: str = option(
        "none",
        "Live logs: none, or tensorboard (losses, metrics and sample grids in RUN_DIR/tensorboard; "
        "pip install 'augment-gan\\[tensorboard]').",
    )


@dataclass(frozen=True)
class TrainEval:
    """Evaluate and gate the EMA generator while training: every ``every`` steps (a multiple
    of the run's ``checkpoint_every``) and at the last step; 0: not at all.

    ``config``: how (samples per class, judge steps, features...); its seed is replaced by
    the run's. ``step0`` also evaluates the untrained step 0 (a reference point that always
    fails the gate). ``pipeline.run`` always evaluates the last step.
    """

    every: int = 0
    config: EvalConfig = field(default_factory=EvalConfig)
    thresholds: GateThresholds = field(default_factory=GateThresholds)
    step0: bool = False

    def __post_init__(self) -> None:
        if self.every < 0:
            raise ConfigError(f"--eval-every must be >= 0, got {self.every}.")

    def eval_config(self, seed: int) -> EvalConfig:
        return replace(self.config, seed=seed)

    @property
    def schedule(self) -> EvalSchedule:
        """What the run's spec saves of it (a resume keeps evaluating so)."""
        return EvalSchedule(self.every, self.config.samples_per_class, self.config.judge_steps)


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
