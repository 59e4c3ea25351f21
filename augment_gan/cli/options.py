"""Options more than one command takes, and the defaults every command takes from the library.

A default is never written here: it is read from the dataclass (or the function) that owns
it, so ``--help`` and the library cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Optional

import typer

from augment_gan.augment import Augmentation
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.gate import GateThresholds
from augment_gan.nets.config import NetConfig
from augment_gan.pipeline.options import Balance, Runtime, TrainEval
from augment_gan.service.launch import plan as serve_plan
from augment_gan.training.config import LOSSES, TrainConfig


def defaults(owner: Any) -> SimpleNamespace:
    """The defaults of a dataclass's fields, or of a function's keyword parameters, by name."""
    if dataclasses.is_dataclass(owner):
        found = {
            f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
            for f in dataclasses.fields(owner)
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        }
    else:
        found = {
            name: p.default
            for name, p in inspect.signature(owner).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
    return SimpleNamespace(**found)


NET, TRAIN, EVAL, TRAIN_EVAL = defaults(NetConfig), defaults(TrainConfig), defaults(EvalConfig), defaults(TrainEval)
RUNTIME, BALANCE = defaults(Runtime), defaults(Balance)
AUGMENT, SERVE = defaults(Augmentation.prepare), defaults(serve_plan)
GATE = GateThresholds()


def thresholds(gate_file: Optional[Path] = None, **overrides: Optional[float | bool]) -> GateThresholds:
    """The gate: GateThresholds' defaults, or the TOML file's, with the options given on top."""
    base = GateThresholds.from_toml(gate_file) if gate_file else GateThresholds()
    return base.with_overrides(**overrides)


def option_group(options: dict[str, tuple[Any, Any]], build: Callable[..., dict[str, Any]]) -> Callable:
    """A decorator that gives a command the ``options`` ({name: (Annotated type, default)}), listed
    after its own, and calls it with what ``build(**their values)`` returns instead: the command
    takes those as keyword-only parameters (after ``*``).

    For options several commands share as one library object (the gate's thresholds, a Runtime)."""
    params = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
        for name, (kind, default) in options.items()
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        own = [
            p
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.kind is not inspect.Parameter.KEYWORD_ONLY
        ]

        @functools.wraps(command)
        def with_group(*args: Any, **kwargs: Any) -> Any:
            group = {name: kwargs.pop(name) for name in options}
            return command(*args, **kwargs, **build(**group))

        with_group.__signature__ = inspect.Signature(own + params)  # what Typer reads
        return with_group

    return decorate


def chosen(ctx: typer.Context, names: dict[str, str]) -> dict[str, Any]:
    """{field: value} of the options typed on the command line, of those ``names`` maps (option -> field)."""
    # by name: Typer carries its own copy of click, whose ParameterSource is not click's
    return {
        field: ctx.params[option]
        for option, field in names.items()
        if getattr(ctx.get_parameter_source(option), "name", None) == "COMMANDLINE"
    }


def opt(help: str, **kwargs: Any) -> Any:
    return typer.Option(help=help, **kwargs)


DataDir = Annotated[Path, typer.Argument(help="Image folder: one sub-folder per class.", show_default=False)]
RunDirArg = Annotated[Path, typer.Argument(help="Run dir: MODELS_DIR/NAME/runs/RUN_ID.", show_default=False)]
ModelsDir = Annotated[Path, opt("Root of run dirs and model dirs.")]
Name = Annotated[str, opt("Model name: runs go to MODELS_DIR/NAME/runs/.")]
Strict = Annotated[bool, opt("Fail if any file would be skipped.")]

# training (train, resume, run)
Steps = Annotated[int, opt("Total generator steps.")]
BatchSize = Annotated[int, opt("Images per D and G step.")]
Seed = Annotated[int, opt("Seed for weights, batches and noise.")]
CheckpointEvery = Annotated[int, opt("Checkpoint and sample grid every N steps.")]
Loss = Annotated[str, opt(f"{', '.join(LOSSES[:-1])} or {LOSSES[-1]}.")]
GWidth = Annotated[int, opt("Generator width (channels of the last block).")]
DWidth = Annotated[int, opt("Discriminator width (channels of the first block).")]
Resolution = Annotated[int, opt("Training resolution: 32, 64, 128 or 256 (images are resized, centre-cropped).")]
LiveLog = Annotated[
    str,
    opt(
        "Live logs: none, or tensorboard (losses, metrics and sample grids in RUN_DIR/tensorboard; "
        "pip install 'augment-gan\\[tensorboard]')."
    ),
]
EvalSamples = Annotated[int, opt("Generated samples per class for --eval-every.")]

# evaluation and the gate
JudgeSteps = Annotated[int, opt("Training steps of the domain judge (cached per dataset split).")]
GateFile = Annotated[Optional[Path], opt("TOML file of gate thresholds (keys as the options below).")]
MaxFid = Annotated[
    Optional[float], opt(f"Gate: max per-class FID (classes with >= {GATE.fid_min_reference} reference images).")
]
MaxKid = Annotated[Optional[float], opt("Gate: max per-class KID.")]
MinPrecision = Annotated[Optional[float], opt("Gate: min per-class precision.")]
MinRecall = Annotated[
    Optional[float],
    opt(
        "Gate: min per-class recall where a class has no real-vs-real band "
        "(with one: min_recall_vs_real x the band's low end, gate-file key)."
    ),
]
MinCoverage = Annotated[
    Optional[float],
    opt(
        "Gate: min per-class coverage where a class has no real-vs-real band "
        "(with one: min_coverage_vs_real x the band's low end, gate-file key)."
    ),
]
MinConsistency = Annotated[Optional[float], opt("Gate: min class consistency (judge agrees).")]
MaxCopyRate = Annotated[Optional[float], opt("Gate: max share of memorised copies.")]
MaxOverallFid = Annotated[Optional[float], opt("Gate: max overall FID.")]
Calibrated = Annotated[
    Optional[bool],
    opt(
        "Gate: judge each class against what real images of its size score "
        "(the default; --no-calibrated: the fixed thresholds alone).",
        show_default=False,
    ),
]

GATE_OPTIONS = {
    "gate_file": (GateFile, None),
    "max_fid": (MaxFid, None),
    "max_kid": (MaxKid, None),
    "min_precision": (MinPrecision, None),
    "min_recall": (MinRecall, None),
    "min_coverage": (MinCoverage, None),
    "min_consistency": (MinConsistency, None),
    "max_copy_rate": (MaxCopyRate, None),
    "max_overall_fid": (MaxOverallFid, None),
    "calibrated": (Calibrated, None),
}
# --gate-file and the thresholds on top of it: the command is called with `gate`, a GateThresholds
gate_options = option_group(
    GATE_OPTIONS,
    lambda gate_file, min_consistency, **values: {
        "gate": thresholds(gate_file, min_class_consistency=min_consistency, **values)
    },
)
