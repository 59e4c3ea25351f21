"""``train`` and ``resume``: the commands of :func:`augment_gan.pipeline.train` and
:func:`~augment_gan.pipeline.resume`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from augment_gan.cli.options import (
    NET,
    RUNTIME,
    TRAIN,
    TRAIN_EVAL,
    BatchSize,
    CheckpointEvery,
    DataDir,
    DWidth,
    EvalSamples,
    GateFile,
    GWidth,
    JudgeSteps,
    LiveLog,
    Loss,
    ModelsDir,
    Name,
    Resolution,
    RunDirArg,
    Seed,
    Steps,
    Strict,
    chosen,
    opt,
    option_group,
    thresholds,
)
from augment_gan.cli.printing import console, err_console, warn
from augment_gan.errors import ConfigError
from augment_gan.pipeline.options import MODELS_DIR, Runtime, TrainEval, TrainEvents

# option -> the NetConfig / TrainConfig field it sets (what `train --resume` compares with the saved run)
NET_OPTIONS = {name: name for name in ("resolution", "latent_dim", "g_width", "d_width")}
TRAIN_OPTIONS = {
    **{
        name: name
        for name in (
            "steps",
            "batch_size",
            "loss",
            "seed",
            "checkpoint_every",
            "lr_g",
            "lr_d",
            "n_critic",
            "ema_decay",
            "diffaugment",
            "label_smoothing",
            "mode_seeking",
            "lecam",
            "topk",
            "ada_target",
            "class_balance",
        )
    },
    "holdout": "holdout_fraction",
}
RUN_OPTIONS = {**NET_OPTIONS, **TRAIN_OPTIONS, "channels": "channels"}

# what train and resume both take: none of it changes the run
RUNNING_OPTIONS = {
    "strict": (Strict, False),
    "device": (Annotated[str, opt("auto, cpu or cuda.")], RUNTIME.device),
    "eval_every": (
        Annotated[int, opt("Evaluate and gate every N steps (a multiple of --checkpoint-every; 0: off).")],
        TRAIN_EVAL.every,
    ),
    "eval_samples": (EvalSamples, TRAIN_EVAL.samples_per_class),
    "judge_steps": (JudgeSteps, TRAIN_EVAL.judge_steps),
    "gate_file": (GateFile, None),
    "precision": (
        Annotated[str, opt("auto, fp32 or bf16 (auto: bf16 autocast on a CUDA GPU that has it).")],
        RUNTIME.precision,
    ),
    "channels_last": (
        Annotated[Optional[bool], opt("channels_last memory format (default: on with CUDA).", show_default=False)],
        RUNTIME.channels_last,
    ),
    "nproc_per_node": (
        Annotated[int, opt("Re-launch through torchrun with N processes per node (DDP; N GPUs, or CPU processes).")],
        RUNTIME.nproc_per_node,
    ),
    "nnodes": (
        Annotated[str, opt("torchrun --nnodes: machines in the job (run the same command on each).")],
        RUNTIME.nnodes,
    ),
    "rdzv_endpoint": (
        Annotated[Optional[str], opt("torchrun rendezvous HOST:PORT (any one node) for --nnodes > 1.")],
        RUNTIME.rdzv_endpoint,
    ),
    "log": (LiveLog, RUNTIME.log),
}


def _running(
    strict: bool,
    device: str,
    eval_every: int,
    eval_samples: int,
    judge_steps: int,
    gate_file: Optional[Path],
    precision: str,
    channels_last: Optional[bool],
    nproc_per_node: int,
    nnodes: str,
    rdzv_endpoint: Optional[str],
    log: str,
) -> dict[str, Any]:
    runtime = Runtime(
        device, precision, channels_last, nproc_per_node, nnodes, rdzv_endpoint, argv=tuple(sys.argv), log=log
    )
    return {
        "strict": strict,
        "runtime": runtime,
        "evaluation": TrainEval(eval_every, eval_samples, judge_steps, thresholds(gate_file)),
    }


running_options = option_group(RUNNING_OPTIONS, _running)


@running_options
def train(
    ctx: typer.Context,
    data_dir: DataDir,
    name: Name,
    models_dir: ModelsDir = MODELS_DIR,
    steps: Steps = TRAIN.steps,
    batch_size: BatchSize = TRAIN.batch_size,
    resolution: Resolution = NET.resolution,
    channels: Annotated[str, opt("auto, 1 or 3 (auto: 1 when every image is gray).")] = "auto",
    loss: Loss = TRAIN.loss,
    seed: Seed = TRAIN.seed,
    checkpoint_every: CheckpointEvery = TRAIN.checkpoint_every,
    resume: Annotated[
        bool,
        opt(
            "Continue the latest run of NAME (see `augment-gan resume`); an option that differs "
            "from the run's saved settings is refused."
        ),
    ] = False,
    lr_g: Annotated[float, opt("Generator learning rate.")] = TRAIN.lr_g,
    lr_d: Annotated[float, opt("Discriminator learning rate.")] = TRAIN.lr_d,
    n_critic: Annotated[int, opt("D steps per G step (5 is usual for wgan-gp).")] = TRAIN.n_critic,
    ema_decay: Annotated[float, opt("Decay of the generator's EMA copy.")] = TRAIN.ema_decay,
    diffaugment: Annotated[
        str, opt("DiffAugment policy (e.g. color,translation,cutout), or 'none'.")
    ] = TRAIN.diffaugment,
    ada_target: Annotated[
        float,
        opt(
            "Adapt the DiffAugment probability per class, raising it while D scores more "
            "than this share of a class's reals as real (0: always apply)."
        ),
    ] = TRAIN.ada_target,
    label_smoothing: Annotated[float, opt("One-sided label smoothing (ns loss only).")] = TRAIN.label_smoothing,
    mode_seeking: Annotated[
        float, opt("Weight of the mode-seeking term against a class collapsing to one image (0: off).")
    ] = TRAIN.mode_seeking,
    lecam: Annotated[
        float, opt("Weight of the LeCam regulariser against D over-fitting a small dataset (0: off).")
    ] = TRAIN.lecam,
    topk: Annotated[
        float, opt("Top-k G updates: the share of fakes G learns from at the last step, annealed from 1 (1: off).")
    ] = TRAIN.topk,
    class_balance: Annotated[
        float, opt("Draw real images with weight n_class ** -B: 1 draws every class equally often, 0 every image.")
    ] = TRAIN.class_balance,
    g_width: GWidth = NET.g_width,
    d_width: DWidth = NET.d_width,
    latent_dim: Annotated[int, opt("Size of the noise vector z.")] = NET.latent_dim,
    holdout: Annotated[float, opt("Share of each class held out of training for evaluation.")] = TRAIN.holdout_fraction,
    *,
    strict: bool,
    runtime: Runtime,
    evaluation: TrainEval,
) -> None:
    """Train a class-conditional GAN on DATA_DIR; writes a run dir with checkpoints and grids.

    Runs on several GPUs or machines when launched by torchrun, or with --nproc-per-node."""
    from augment_gan import pipeline
    from augment_gan.training.run import SettingsChanged

    try:
        result = pipeline.train(
            data_dir,
            name,
            models_dir=models_dir,
            net=chosen(ctx, NET_OPTIONS),
            train=chosen(ctx, TRAIN_OPTIONS),
            channels=chosen(ctx, {"channels": "channels"}).get("channels"),
            strict=strict,
            resume=resume,
            runtime=runtime,
            evaluation=evaluation,
            events=TrainPrinter(data_dir),
        )
    except SettingsChanged as e:
        options = {field: "--" + option.replace("_", "-") for option, field in RUN_OPTIONS.items()}
        raise ConfigError(e.describe(options)) from None
    print_trained(result)


@running_options
def resume(
    run_dir: RunDirArg,
    steps: Annotated[
        Optional[int], opt("New total of generator steps (default: the run's own).", show_default=False)
    ] = None,
    *,
    strict: bool,
    runtime: Runtime,
    evaluation: TrainEval,
) -> None:
    """Continue RUN_DIR from its newest checkpoint, with the settings it was saved with.

    Bit-for-bit the weights of an uninterrupted run (on CPU), with any number of processes."""
    from augment_gan import pipeline

    result = pipeline.resume(
        run_dir, steps=steps, strict=strict, runtime=runtime, evaluation=evaluation, events=TrainPrinter()
    )
    print_trained(result)


class TrainPrinter(TrainEvents):
    """Prints what ``train`` / ``resume`` report as they go."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir

    def skipped(self, data: Any) -> None:
        warn(
            f"skipped {len(data.skipped)} unusable file(s); `augment-gan inspect {self.data_dir or data.root}` "
            "lists them with reasons."
        )

    def judging(self) -> None:
        console.print("training the domain judge for evaluation (once per dataset split, then cached)...")

    def judged(self, judge_report: dict[str, Any]) -> None:
        console.print(
            f"judge accuracy on held-out real images: {judge_report['accuracy']:.3f} (n={judge_report['n']})",
            highlight=False,
        )

    def started(self, s: Any) -> None:
        console.print(
            f"run dir {s.run_dir}\ntraining on {sum(s.counts)} images in {len(s.counts)} classes "
            f"(per class {s.counts}), {s.resolution}x{s.resolution}, {s.channels} channel(s), device {s.device}, "
            f"{s.precision}"
            + (", channels_last" if s.channels_last else "")
            + (f", resuming at step {s.start}" if s.start else ""),
            highlight=False,
        )
        if s.world_size > 1:
            console.print(
                f"distributed: {s.world_size} processes ({s.backend}); batch {s.batch_size} per step = "
                f"{s.world_size} x {s.batch_size // s.world_size} per process; lr G {s.lr_g:g}, D "
                f"{s.lr_d:g} (the batch and learning rates do not change with the number of processes)",
                highlight=False,
            )


def print_trained(result: Any) -> None:
    """The end of a train or resume: steps and speed, the best step; exit 130 when interrupted."""
    from augment_gan.pipeline import Relaunched

    if isinstance(result, Relaunched):
        if result.interrupted:
            err_console.print(
                "interrupted: the workers checkpointed their last finished step; continue with "
                "`augment-gan resume RUN_DIR` (any number of processes)."
            )
            raise typer.Exit(130)
        raise typer.Exit(result.exit_code)
    if not result.is_main:  # one voice: rank 0 reports
        return
    if result.interrupted:
        err_console.print(
            f"interrupted: checkpoint saved at step {result.step}; continue with "
            f"`augment-gan resume {result.run_dir}`.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130)
    done = result.step - result.start
    console.print(
        f"trained {done} steps in {result.seconds:.0f} s ({done / max(result.seconds, 1e-9):.2f} steps/s); "
        f"samples: {result.samples}",
        highlight=False,
    )
    if result.best is not None:
        console.print(
            f"best checkpoint: step {result.best['step']} ({result.best['classes_passing']} classes pass "
            f"the gate); promote it with `augment-gan promote {result.run_dir}`.",
            highlight=False,
            soft_wrap=True,
        )
