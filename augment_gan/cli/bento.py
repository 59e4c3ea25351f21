"""``augment-gan bento save|build``: :func:`augment_gan.service.bento.save` and :func:`augment_gan.service.bento.build`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from augment_gan.cli.options import ModelsDir
from augment_gan.cli.printing import console

Model = Annotated[str, typer.Argument(help="Model dir, or a model name under --models-dir (its PROMOTED version).")]
# The defaults restate the library's (importing it here would load bentoml for `--help`);
# tests/cli/test_options.py checks they agree.
AllowUngated = Annotated[
    bool, typer.Option("--allow-ungated", help="Accept a model dir written by `augment-gan export`.")
]


def save(model: Model, models_dir: ModelsDir = Path("models"), allow_ungated: AllowUngated = False) -> None:
    """Save a model dir to BentoML's model store as NAME:vN (serve it with AUGMENT_GAN_MODEL=NAME:vN)."""
    from augment_gan.service.bento import save as save_model

    tag = save_model(model, models_dir, allow_ungated=allow_ungated)
    console.print(f"saved {tag} to BentoML's model store (bentoml models get {tag}).", highlight=False)


def build(
    model: Model,
    models_dir: ModelsDir = Path("models"),
    project: Annotated[Path, typer.Option(help="The source checkout: its service/bentofile.yaml and code.")] = Path(
        "."
    ),
    allow_ungated: AllowUngated = False,
) -> None:
    """Save the model (if needed) and build a Bento that packs only that version."""
    from augment_gan.service.bento import build as build_bento

    tag, bento = build_bento(model, models_dir, project=project, allow_ungated=allow_ungated)
    console.print(
        f"built {bento} with model {tag} (bentoml serve {bento}; bentoml containerize {bento}).", highlight=False
    )
