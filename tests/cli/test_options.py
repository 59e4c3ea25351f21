"""Every default the CLI shows is the library's own, and ``--help`` loads no torch of its own."""

import dataclasses
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from augment_gan.augment import Augmentation
from augment_gan.cli import app
from augment_gan.evaluation.config import EvalConfig
from augment_gan.nets import NetConfig
from augment_gan.pipeline import Balance, Placement, TrainEval, resume
from augment_gan.pipeline import run as run_job
from augment_gan.run import TrainConfig
from augment_gan.service.launch import plan as serve_plan

COMMANDS = typer.main.get_command(app).commands
EVAL_DURING_TRAINING = {
    "eval_every": TrainEval.every,
    "eval_samples": EvalConfig.samples_per_class,
    "judge_steps": EvalConfig.judge_steps,
}


def _option_defaults(cls: type) -> dict:
    """{option: default} of every field of ``cls`` that is a command-line option."""
    return {f.metadata["option"] or f.name: f.default for f in dataclasses.fields(cls) if "help" in f.metadata}


def _keyword_defaults(fn, names: tuple[str, ...]) -> dict:
    return {name: inspect.signature(fn).parameters[name].default for name in names}


TRAINING = {**_option_defaults(NetConfig), **_option_defaults(TrainConfig), **_option_defaults(Placement)}
EXPECTED = {
    "train": {**TRAINING, **EVAL_DURING_TRAINING},
    "resume": {
        **_option_defaults(Placement),
        **EVAL_DURING_TRAINING,
        **_keyword_defaults(resume, ("steps", "minutes")),
    },
    "evaluate": {
        "features": EvalConfig.features,
        "samples": EvalConfig.samples_per_class,
        "judge_steps": EvalConfig.judge_steps,
    },
    "run": {
        **TRAINING,
        "minutes": _keyword_defaults(run_job, ("train",))["train"].minutes,  # run's own time budget
        "eval_every": 0,
        "eval_samples": EvalConfig.samples_per_class,
        "judge_steps": EvalConfig.judge_steps,
        **{name: getattr(Balance, name) for name in ("out", "target", "max_share")},
    },
    "augment": _keyword_defaults(
        Augmentation.prepare,
        ("models_dir", "target", "classes", "out", "fmt", "size", "seed", "max_share", "allow_ungated", "batch_size"),
    ),
    "serve": _keyword_defaults(
        serve_plan,
        ("model", "models_dir", "host", "port", "workers", "threads", "allow_ungated", "select", "token_file"),
    ),
}


def test_every_training_option_comes_from_a_field_and_every_training_command_takes_it() -> None:
    assert len(TRAINING) == 5 + 28 + 7  # NetConfig, TrainConfig and Placement fields with help
    for command in ("train", "run"):
        helps = {p.name: p.help for p in COMMANDS[command].params}
        for cls in (NetConfig, TrainConfig, Placement):
            for f in dataclasses.fields(cls):
                if "help" in f.metadata:
                    assert helps[f.metadata["option"] or f.name] == f.metadata["help"], (command, f.name)


@pytest.mark.parametrize("command", sorted(EXPECTED))
def test_every_default_is_the_librarys(command: str) -> None:
    shown = {p.name: p.default for p in COMMANDS[command].params}
    as_given = {name: str(v) if isinstance(v, Path) else v for name, v in EXPECTED[command].items()}  # "models"
    assert {name: str(shown[name]) if isinstance(shown[name], Path) else shown[name] for name in as_given} == as_given


def test_every_command_has_help_and_the_new_ones_are_listed() -> None:
    assert list(COMMANDS) == [
        "inspect",
        "train",
        "resume",
        "evaluate",
        "promote",
        "export",
        "augment",
        "clean",
        "serve",
        "run",
        "demo",
        "bento",
    ]
    assert all(command.help for command in COMMANDS.values())


def test_the_bento_group_mirrors_the_library() -> None:
    from augment_gan.service import bento

    group = COMMANDS["bento"].commands
    assert list(group) == ["save", "build"] and all(command.help for command in group.values())
    for name, fn in (("save", bento.save), ("build", bento.build)):
        shown = {p.name: p.default for p in group[name].params}
        expected = {
            k: v.default
            for k, v in inspect.signature(fn).parameters.items()
            if k in ("models_dir", "allow_ungated", "project")
        }
        assert {k: shown[k] for k in expected} == expected, name


_HELP_IMPORTS = """
import json, sys
from typer.testing import CliRunner
from augment_gan.cli import app
for command in ([], ["train"], ["resume"], ["evaluate"], ["augment"], ["run"]):
    assert CliRunner().invoke(app, [*command, "--help"]).exit_code == 0, command
print(json.dumps(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))))
"""


@pytest.mark.slow
def test_help_imports_no_torch() -> None:
    """The CLI and the config dataclasses it takes its defaults from need no torch."""
    result = subprocess.run([sys.executable, "-c", _HELP_IMPORTS], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
