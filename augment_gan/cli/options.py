"""Options more than one command takes, and the defaults every command takes from the library.

A default is never written here: it is read from the dataclass (or the function) that owns
it, so ``--help`` and the library cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Optional

import typer

from augment_gan.augment import Augmentation
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.gate import GateThresholds
from augment_gan.evaluation.registry import gated_metrics
from augment_gan.nets.config import NetConfig
from augment_gan.pipeline.options import Balance, Placement, TrainEval
from augment_gan.run.train_config import LOSSES, TrainConfig
from augment_gan.service.launch import plan as serve_plan


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
PLACEMENT, BALANCE = defaults(Placement), defaults(Balance)
AUGMENT, SERVE = defaults(Augmentation.prepare), defaults(serve_plan)


def thresholds(gate_file: Optional[Path] = None, **overrides: Optional[float | bool]) -> GateThresholds:
    """The gate: GateThresholds' defaults, or the TOML file's, with the options given on top."""
    base = GateThresholds.from_toml(gate_file) if gate_file else GateThresholds()
    return base.with_overrides(**overrides)


def option_group(
    options: dict[str, tuple[Any, Any]], build: Callable[..., dict[str, Any]], provides: tuple[str, ...]
) -> Callable:
    """A decorator that gives a command the ``options`` ({name: (Annotated type, default)}), listed
    after its own, and calls it with what ``build(**their values)`` returns instead: the
    command takes those (``provides``) as keyword-only parameters (after ``*``). Groups stack.
    ``build`` may take ``ctx`` (the command's ``typer.Context``) to see which options were typed.

    For options several commands share as one library object (the gate's thresholds, a Placement)."""
    params = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
        for name, (kind, default) in options.items()
    ]
    wants_ctx = "ctx" in inspect.signature(build).parameters

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        missing = set(provides) - set(signature.parameters)
        if missing:
            raise TypeError(f"{command.__name__} does not take {sorted(missing)}")
        kept = [p for name, p in signature.parameters.items() if name not in provides]
        own = [p for p in kept if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        others = [p for p in kept if p.kind is inspect.Parameter.KEYWORD_ONLY]  # groups applied before

        @functools.wraps(command)
        def with_group(*args: Any, **kwargs: Any) -> Any:
            group = {name: kwargs.pop(name) for name in options}
            if wants_ctx:
                group["ctx"] = kwargs.get("ctx")
            return command(*args, **kwargs, **build(**group))

        with_group.__signature__ = inspect.Signature(own + others + params)  # what Typer reads
        return with_group

    return decorate


def field_options(
    cls: type, *, skip: tuple[str, ...] = (), defaults: dict[str, Any] | None = None
) -> dict[str, tuple[Any, Any]]:
    """``{option: (Annotated type, default)}`` for the fields of config dataclass ``cls`` that
    carry a help text (``augment_gan.fields.option``): the one source of a training option's
    name, type, default and help. The option is the field's name unless the field names one;
    ``defaults`` ({option: value}) gives one command its own default for some of them."""
    hints = typing.get_type_hints(cls)
    found = {}
    for f in dataclasses.fields(cls):
        if "help" not in f.metadata or f.name in skip:
            continue
        name = f.metadata["option"] or f.name
        found[name] = (Annotated[hints[f.name], opt(f.metadata["help"])], (defaults or {}).get(name, f.default))
    return found


def option_fields(cls: type) -> dict[str, str]:
    """``{option: field}`` of ``cls``'s command-line fields (``holdout`` -> ``holdout_fraction``)."""
    return {f.metadata["option"] or f.name: f.name for f in dataclasses.fields(cls) if "help" in f.metadata}


def typed_options(ctx: typer.Context | None, values: dict[str, Any]) -> dict[str, Any]:
    """The ``values`` whose option was typed on the command line (all of them without a context)."""
    if ctx is None:
        return dict(values)
    # by name: Typer carries its own copy of click, whose ParameterSource is not click's
    return {
        option: value
        for option, value in values.items()
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
MaxOverallFid = Annotated[Optional[float], opt("Gate: max overall FID.")]
Calibrated = Annotated[
    Optional[bool],
    opt(
        "Gate: judge each class against what real images of its size score "
        "(the default; --no-calibrated: the fixed thresholds alone).",
        show_default=False,
    ),
]


def gate_option_specs() -> dict[str, tuple[Any, Any]]:
    """``{option: (Annotated type, default)}`` of the gate: ``--gate-file``, one bar per
    registered metric (its option and help from the registry, ``evaluation/registry.py``),
    ``--max-overall-fid`` and ``--calibrated``. Each defaults to None: not given, the gate
    file's value or GateThresholds' default stands."""
    options: dict[str, tuple[Any, Any]] = {"gate_file": (GateFile, None)}
    for metric in gated_metrics():
        options[metric.option_name] = (Annotated[Optional[float], opt(metric.option_help())], None)
    options["max_overall_fid"] = (MaxOverallFid, None)
    options["calibrated"] = (Calibrated, None)
    return options


def _gate(gate_file: Optional[Path] = None, **values: Optional[float | bool]) -> dict[str, GateThresholds]:
    keys = {metric.option_name: metric.field for metric in gated_metrics()}  # --min-consistency: a gate-file key
    return {"gate": thresholds(gate_file, **{keys.get(option, option): v for option, v in values.items()})}


def gate_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--gate-file and the thresholds on top of it, as registered when the command is
    decorated: the command is called with ``gate``, a GateThresholds."""
    return option_group(gate_option_specs(), _gate, provides=("gate",))(command)
