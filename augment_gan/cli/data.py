"""``inspect``: the command of :func:`augment_gan.data.summary.inspect`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from augment_gan.cli.options import DataDir, Strict
from augment_gan.cli.printing import console


def inspect(
    data_dir: DataDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    strict: Strict = False,
) -> None:
    """Class counts, imbalance, image sizes and modes, and every skipped file with its reason."""
    from augment_gan.data import summary

    report = summary.inspect(data_dir, strict=strict, progress=not as_json)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        console.print(summary.format_summary_table(report))
