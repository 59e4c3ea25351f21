"""Write docs/cli.md: every ``augment-gan`` command's ``--help``, as a 100-column plain terminal shows it.

    .venv/bin/python docs/make_cli_docs.py           # rewrite docs/cli.md
    .venv/bin/python docs/make_cli_docs.py --check   # exit 1 when docs/cli.md is out of date

The help is the CLI's own (Typer's ``CliRunner`` on ``augment_gan.cli.app``, in process, so
it imports no torch and takes about a second), at a fixed width, without colour or trailing
spaces, so the page is the same on every machine. ``tests/test_docs.py`` runs the check:
``--help`` and this page cannot disagree.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

DOCS = Path(__file__).resolve().parent
CLI_MD = DOCS / "cli.md"
# What makes --help the same everywhere: the width, no colour, no terminal tricks (CI sets
# variables such as GITHUB_ACTIONS that make rich force a terminal; the ANSI strip covers it).
HELP_ENV = {"COLUMNS": "100", "LINES": "50", "TERM": "dumb", "NO_COLOR": "1", "TERMINAL_WIDTH": "100"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

HEADER = """\
# Command reference

Every command's `--help`, generated from the CLI itself by `docs/make_cli_docs.py`
(`tests/test_docs.py` fails when this page and `--help` disagree; rerun
`.venv/bin/python docs/make_cli_docs.py` after changing an option). Each command is a thin
wrapper over the library function of the same name: the table in the [README](../README.md#commands-and-their-library-twins)
names them. Errors you can fix (a missing folder, a bad option, a corrupt checkpoint) print
one line and exit with code 1.
"""


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path under ``group`` (a click group: Typer vendors its own click), in the
    order the CLI registers them, each group before its commands."""
    for name, command in group.commands.items():
        yield (*path, name)
        if hasattr(command, "commands"):
            yield from commands(command, (*path, name))


def help_text(app: typer.Typer, path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=HELP_ENV, color=False, prog_name="augment-gan")
    if result.exit_code != 0:
        raise RuntimeError(f"augment-gan {' '.join(path)} --help exited {result.exit_code}:\n{result.output}")
    lines = [ANSI.sub("", line).rstrip() for line in result.output.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def render() -> str:
    """The whole page: the top-level help, then one section per command."""
    from augment_gan.cli import app

    paths = list(commands(typer.main.get_command(app)))
    titles = ["augment-gan " + " ".join(path) for path in paths]
    contents = " · ".join(f"[{' '.join(path)}](#{title.replace(' ', '-')})" for path, title in zip(paths, titles))
    sections = [HEADER, contents + "\n", "## augment-gan\n\n```text\n" + help_text(app, ()) + "\n```\n"]
    for path, title in zip(paths, titles):
        sections.append(f"## {title}\n\n```text\n{help_text(app, path)}\n```\n")
    return "\n".join(sections)


def main(argv: list[str]) -> int:
    page = render()
    if "--check" in argv:
        if not CLI_MD.exists() or CLI_MD.read_text(encoding="utf-8") != page:
            print(f"{CLI_MD} is out of date: run .venv/bin/python docs/make_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    CLI_MD.write_text(page, encoding="utf-8")
    print(f"wrote {CLI_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
