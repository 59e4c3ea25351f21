"""Every default the CLI shows is the library's own, and ``--help`` loads no torch of its own."""

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
from augment_gan.pipeline import Balance, Runtime, TrainEval
from augment_gan.service.launch import plan as serve_plan
from augment_gan.training import TrainConfig

COMMANDS = typer.main.get_command(app).commands
TRAIN_FIELDS = (
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
    "class_balance",
)
NET_FIELDS = ("resolution", "latent_dim", "g_width", "d_width")
RUNTIME_FIELDS = ("device", "precision", "channels_last", "nproc_per_node", "nnodes", "rdzv_endpoint")


def _field_defaults(cls: type, names: tuple[str, ...]) -> dict:
    return {name: getattr(cls, name) for name in names}


def _keyword_defaults(fn, names: tuple[str, ...]) -> dict:
    return {name: inspect.signature(fn).parameters[name].default for name in names}


EXPECTED = {
    "train": {
        **_field_defaults(TrainConfig, TRAIN_FIELDS),
        **_field_defaults(NetConfig, NET_FIELDS),
        "holdout": TrainConfig.holdout_fraction,
        **_field_defaults(Runtime, RUNTIME_FIELDS),
        "eval_every": TrainEval.every,
        "eval_samples": EvalConfig.samples_per_class,
        "judge_steps": EvalConfig.judge_steps,
    },
    "resume": {
        **_field_defaults(Runtime, RUNTIME_FIELDS),
        "eval_every": TrainEval.every,
        "eval_samples": EvalConfig.samples_per_class,
        "judge_steps": EvalConfig.judge_steps,
    },
    "evaluate": {
        "features": EvalConfig.features,
        "samples": EvalConfig.samples_per_class,
        "judge_steps": EvalConfig.judge_steps,
    },
    "run": {
        **_field_defaults(TrainConfig, ("steps", "batch_size", "seed", "checkpoint_every")),
        **_field_defaults(NetConfig, ("g_width", "d_width")),
        "eval_samples": EvalConfig.samples_per_class,
        "judge_steps": EvalConfig.judge_steps,
        **_field_defaults(Balance, ("out", "target", "max_share")),
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
