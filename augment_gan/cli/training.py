"""``train`` and ``resume``: the commands of :func:`augment_gan.pipeline.train` and
:func:`~augment_gan.pipeline.resume`, and the option groups ``run`` shares with them.

Every training option is generated from the field of the config dataclass it sets
(``NetConfig``, ``TrainConfig``, ``Placement``: help text on the field), so ``--help``
and the library cannot disagree, and every command that trains takes all of them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from augment_gan.cli.options import (
    TRAIN_EVAL,
    DataDir,
    EvalSamples,
    GateFile,
    JudgeSteps,
    ModelsDir,
    Name,
    RunDirArg,
    Strict,
    field_options,
    opt,
    option_fields,
    option_group,
    thresholds,
    typed_options,
)
from augment_gan.cli.printing import console, err_console, warn
from augment_gan.errors import ConfigError
from augment_gan.evaluation.config import EvalConfig
from augment_gan.nets.config import NetConfig
from augment_gan.pipeline.options import MODELS_DIR, RUN_MINUTES, Events, Placement, TrainEval
from augment_gan.run.train_config import TrainConfig

NET_OPTIONS, TRAIN_OPTIONS = option_fields(NetConfig), option_fields(TrainConfig)  # option -> field
Channels = Annotated[str, opt("auto, 1 or 3 (auto: 1 when every image is gray).")]


def _training(ctx: Any = None, **values: Any) -> dict[str, Any]:
    """The NetConfig and TrainConfig fields typed on the command line (the rest keep their defaults;
    ``train --resume`` compares exactly these with the saved run)."""
    typed = typed_options(ctx, values)
    return {
        "net": {NET_OPTIONS[o]: v for o, v in typed.items() if o in NET_OPTIONS},
        "train": {TRAIN_OPTIONS[o]: v for o, v in typed.items() if o in TRAIN_OPTIONS},
    }


def _run_training(ctx: Any = None, **values: Any) -> dict[str, Any]:
    """As :func:`_training`, with ``run``'s own time budget unless ``--minutes`` was typed."""
    built = _training(ctx, **values)
    built["train"].setdefault("minutes", values["minutes"])
    return built


training_options = option_group(
    {**field_options(NetConfig), **field_options(TrainConfig)}, _training, provides=("net", "train")
)
# run: the whole job, so a default time budget (pipeline.options.RUN_MINUTES)
run_training_options = option_group(
    {**field_options(NetConfig), **field_options(TrainConfig, defaults={"minutes": RUN_MINUTES})},
    _run_training,
    provides=("net", "train"),
)
placement_options = option_group(
    {"strict": (Strict, False), **field_options(Placement)},
    lambda strict, **values: {"strict": strict, "placement": Placement(**values, argv=tuple(sys.argv))},
    provides=("strict", "placement"),
)
EVAL_OPTIONS = {
    "eval_every": (
        Annotated[int, opt("Evaluate and gate every N steps (a multiple of --checkpoint-every; 0: off).")],
        TRAIN_EVAL.every,
    ),
    "eval_samples": (EvalSamples, EvalConfig.samples_per_class),
    "judge_steps": (JudgeSteps, EvalConfig.judge_steps),
    "gate_file": (GateFile, None),
}


def _train_eval(
    ctx: Any = None, *, eval_every: int, eval_samples: int, judge_steps: int, gate_file: Optional[Path]
) -> dict[str, Any]:
    """TrainEval from the options; None when none was typed (``resume`` keeps the run's schedule)."""
    values = {
        "eval_every": eval_every,
        "eval_samples": eval_samples,
        "judge_steps": judge_steps,
        "gate_file": gate_file,
    }
    if ctx is not None and ctx.command.name == "resume" and not typed_options(ctx, values):
        return {"evaluation": None}
    config = EvalConfig(samples_per_class=eval_samples, judge_steps=judge_steps)
    return {"evaluation": TrainEval(eval_every, config, thresholds(gate_file))}


train_eval_options = option_group(EVAL_OPTIONS, _train_eval, provides=("evaluation",))


@train_eval_options
@placement_options
@training_options
def train(
    ctx: typer.Context,
    data_dir: DataDir,
    name: Name,
    models_dir: ModelsDir = MODELS_DIR,
    channels: Channels = "auto",
    resume: Annotated[
        bool,
        opt(
            "Continue the latest run of NAME (see `augment-gan resume`); an option that differs "
            "from the run's saved settings is refused."
        ),
    ] = False,
    *,
    net: dict[str, Any],
    train: dict[str, Any],
    strict: bool,
    placement: Placement,
    evaluation: TrainEval,
) -> None:
    """Train a class-conditional GAN on DATA_DIR; writes a run dir with checkpoints and grids.

    Runs on several GPUs or machines when launched by torchrun, or with --nproc-per-node."""
    from augment_gan import pipeline
    from augment_gan.run import SettingsChanged

    typed_channels = typed_options(ctx, {"channels": channels}).get("channels")
    try:
        result = pipeline.train(
            data_dir,
            name,
            models_dir=models_dir,
            net=net,
            train=train,
            channels=typed_channels,
            strict=strict,
            resume=resume,
            placement=placement,
            evaluation=evaluation,
            events=ConsoleEvents(data_dir),
        )
    except SettingsChanged as e:
        options = {field: "--" + option.replace("_", "-") for option, field in {**NET_OPTIONS, **TRAIN_OPTIONS}.items()}
        raise ConfigError(e.describe({**options, "channels": "--channels"})) from None
    print_trained(result)


@train_eval_options
@placement_options
def resume(
    ctx: typer.Context,
    run_dir: RunDirArg,
    steps: Annotated[
        Optional[int], opt("New total of generator steps (default: the run's own).", show_default=False)
    ] = None,
    minutes: Annotated[
        Optional[float],
        opt("Time budget of this resume in minutes, 0 for none (default: the run's own).", show_default=False),
    ] = None,
    *,
    strict: bool,
    placement: Placement,
    evaluation: Optional[TrainEval],
) -> None:
    """Continue RUN_DIR from its newest checkpoint, with the settings it was saved with.

    Bit-for-bit the weights of an uninterrupted run (on CPU), with any number of processes.
    The evaluation options, when none is given, keep the run's own schedule."""
    from augment_gan import pipeline

    result = pipeline.resume(
        run_dir,
        steps=steps,
        minutes=minutes,
        strict=strict,
        placement=placement,
        evaluation=evaluation,
        events=ConsoleEvents(),
    )
    print_trained(result)


class ConsoleEvents(Events):
    """The pipeline's events, printed: what ``train``, ``resume`` and ``run`` report as they go."""

    progress = True

    def __init__(self, data_dir: Path | None = None, *, summary: bool = False) -> None:
        self.data_dir, self.summary = data_dir, summary

    def stage(self, title: str) -> None:
        console.rule(title)

    def note(self, text: str) -> None:
        if text:
            console.print(text, highlight=False, soft_wrap=True)

    def loaded(self, data: Any) -> None:
        if self.summary:
            from augment_gan.data import format_summary_table, summarize

            console.print(format_summary_table(summarize(data)))
        if data.skipped:
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
