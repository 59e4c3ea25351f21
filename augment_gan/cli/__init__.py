"""The ``augment-gan`` command line: each command parses, calls the library function of the same name, prints.

============  ==============================================================
``inspect``   :func:`augment_gan.data.summary.inspect`
``train``     :func:`augment_gan.pipeline.train`
``resume``    :func:`augment_gan.pipeline.resume`
``evaluate``  :func:`augment_gan.pipeline.evaluate`
``promote``   :func:`augment_gan.pipeline.promote`
``export``    :func:`augment_gan.pipeline.export`
``augment``   :func:`augment_gan.augment.augment` (``Augmentation.prepare``, then ``.apply``)
``clean``     :func:`augment_gan.augment.clean_folder`
``serve``     :func:`augment_gan.service.serve`
``bento``     ``save``: :func:`augment_gan.service.bento.save`; ``build``: :func:`augment_gan.service.bento.build`
``run``       :func:`augment_gan.pipeline.run`
``demo``      :func:`augment_gan.demo.demo`
============  ==============================================================

The commands live in one module per group (``data``, ``training``, ``evaluation``,
``consumers``, ``pipeline``); each imports its library function when it runs, so ``--help``
loads only the config modules the defaults come from (none of which imports torch, though
the ``nets``, ``training`` and ``evaluation`` package ``__init__`` files around them still do).
Every command runs inside :func:`user_errors`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

from augment_gan.cli import bento, consumers, data, evaluation, pipeline, training
from augment_gan.cli.printing import err_console, styled
from augment_gan.errors import AugmentGanError

app = typer.Typer(
    name="augment-gan",
    help="Train a class-conditional GAN on an image folder, gate it per class, and use it to balance the folder.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@contextmanager
def user_errors() -> Iterator[None]:
    """Errors the user can fix become one line on stderr and exit code 1; bugs still raise."""
    try:
        yield
    except AugmentGanError as e:
        err_console.print(styled("error:", "bold red", f" {e}"), highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _command(fn: Callable[..., Any], group: typer.Typer = app) -> None:
    """Register ``fn`` as a command of ``group`` whose user errors are one line (Typer reads ``fn``'s signature)."""

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        with user_errors():
            return fn(*args, **kwargs)

    group.command()(command)


for _fn in (
    data.inspect,
    training.train,
    training.resume,
    evaluation.evaluate,
    evaluation.promote,
    evaluation.export,
    consumers.augment,
    consumers.clean,
    consumers.serve,
    pipeline.run,
    pipeline.demo,
):
    _command(_fn)

bento_app = typer.Typer(
    name="bento", help="BentoML's model store and Bentos: save a model, build a Bento.", no_args_is_help=True
)
for _fn in (bento.save, bento.build):
    _command(_fn, bento_app)
app.add_typer(bento_app)
