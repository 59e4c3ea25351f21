"""Training a run as ``train`` and ``resume`` do it: torchrun re-launch, DDP, evaluation during training.

What the two stages share once they know which run dir to train and on what folder. Rank 0
opens the run (creates or finds it, loads the folder) and tells the other ranks where it
is; evaluation during training is injected through ``Trainer.fit(on_checkpoint=...)``, so
training never imports evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augment_gan.contracts.run_dir import RunDir
from augment_gan.evaluation.checkpoints import EvalDuringTraining, check_eval_every
from augment_gan.evaluation.evaluate import RunEvaluator
from augment_gan.pipeline.options import Events, Placement, TrainEval, TrainStart
from augment_gan.run import Run
from augment_gan.training import Trainer, TrainingInterrupted, make_trainer, pick_device
from augment_gan.training.distributed import init_distributed, relaunch_train, shutdown_distributed
from augment_gan.training.live_log import TensorBoardLog, open_live_log


def train_start(trainer: Trainer, start: int) -> TrainStart:
    """What ``trainer`` starts with at step ``start``."""
    net, cfg, dist = trainer.net_cfg, trainer.cfg, trainer.dist
    return TrainStart(
        trainer.run_dir,
        trainer.labels.bincount(minlength=net.num_classes).tolist(),
        net.resolution,
        net.channels,
        str(trainer.device),
        trainer.precision,
        trainer.channels_last,
        start,
        dist.world_size,
        dist.backend,
        cfg.batch_size,
        cfg.lr_g,
        cfg.lr_d,
    )


@dataclass(frozen=True)
class Trained:
    """Where a ``train`` or ``resume`` ended."""

    run_dir: Path
    start: int  # the step it started from
    step: int  # the step it reached (checkpointed)
    seconds: float
    best: dict[str, Any] | None = None  # eval/best.json, when it evaluated while training
    interrupted: bool = False  # Ctrl-C: the last finished step is checkpointed; resume continues it
    is_main: bool = True  # False on the other ranks of a torchrun job (rank 0 reports)

    @property
    def samples(self) -> Path:
        """The sample grid of the last step."""
        return RunDir(self.run_dir).sample_grid(self.step)


@dataclass(frozen=True)
class Relaunched:
    """The command ran again under torchrun (``Placement.nproc_per_node``); this process only waited."""

    exit_code: int
    interrupted: bool


def relaunch(placement: Placement, command: str) -> Relaunched:
    """Run ``placement.argv`` (an ``augment-gan <command>`` line) under torchrun and wait for it."""
    code, interrupted = relaunch_train(
        list(placement.argv),
        placement.nproc_per_node,
        placement.nnodes,
        placement.rdzv_endpoint,
        command=command,
    )
    return Relaunched(code, interrupted)


def fit_run(
    open_run: Callable[[], Run],
    *,
    steps: int | None,
    resuming: bool,
    strict: bool,
    placement: Placement,
    evaluation: TrainEval,
    events: Events,
) -> Trained:
    """Train the run ``open_run()`` creates or opens (called on rank 0 only) to its step budget
    (``steps``: a new budget, saved with the run)."""
    dist, device = init_distributed(pick_device(placement.device))
    finished, trainer = False, None
    try:
        run = open_run() if dist.is_main else None
        run_dir = Path(dist.broadcast(str(run.path if run is not None else None)))
        if run is None:  # other ranks: the folder rank 0 just loaded (and cached)
            run = Run.open(run_dir, strict=strict, progress=False)
        channels_last = device.type == "cuda" if placement.channels_last is None else placement.channels_last
        trainer = make_trainer(
            run, steps=steps, device=device, dist=dist, precision=placement.precision, channels_last=channels_last
        )
        start = trainer.resume() if resuming else 0
        hook = _evaluation_hook(trainer, run, evaluation, events) if dist.is_main else None
        if dist.is_main:  # rank 0 alone logs
            trainer.live_log = open_live_log(placement.log, run_dir, run.data.classes, start)
            events.started(train_start(trainer, start))
        t0 = time.perf_counter()
        try:
            trainer.fit(progress=events.progress, on_checkpoint=with_live_log(hook, trainer.live_log))
        except TrainingInterrupted as e:  # the step is checkpointed; leave without waiting for the others
            return Trained(run_dir, start, e.step, time.perf_counter() - t0, interrupted=True, is_main=dist.is_main)
        best = run.dir.read_best() if hook is not None else None
        finished = True
        return Trained(run_dir, start, trainer.step, time.perf_counter() - t0, best, is_main=dist.is_main)
    finally:
        if trainer is not None and trainer.live_log is not None:
            trainer.live_log.close()
        shutdown_distributed(synchronize=finished)


def with_live_log(
    hook: Callable[[Trainer], dict[str, Any] | None] | None, live_log: TensorBoardLog | None
) -> Callable[[Trainer], None] | None:
    """``hook`` (an on_checkpoint callback that returns its report when it evaluated), then that
    report to the live log."""
    if hook is None or live_log is None:
        return hook

    def evaluate_and_log(trainer: Trainer) -> None:
        report = hook(trainer)
        if report is not None:
            live_log.evaluation(report)

    return evaluate_and_log


def _evaluation_hook(trainer: Trainer, run: Run, evaluation: TrainEval, events: Events) -> EvalDuringTraining | None:
    """The ``on_checkpoint`` hook that evaluates and gates every ``evaluation.every`` steps and
    the last step (None: ``evaluation.every`` is 0)."""
    if not evaluation.every:
        return None
    if evaluation.every != trainer.cfg.steps:  # before the judge trains
        check_eval_every(evaluation.every, trainer.cfg.checkpoint_every)
    events.judging()
    evaluator = RunEvaluator(run, evaluation.eval_config(seed=trainer.cfg.seed))
    events.judged(evaluator.judge_report)
    return EvalDuringTraining(evaluator, evaluation.thresholds, evaluation.every, step0=evaluation.step0)
