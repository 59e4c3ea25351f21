"""The docs cannot drift: docs/cli.md is the CLI's own --help, the README stays a front door
whose command table names every command and its real library twin, and every link in the
README, the changelog and docs/ resolves (file and heading)."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = sorted([README, REPO / "CHANGELOG.md", *(REPO / "docs").rglob("*.md")])
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _make_cli_docs():
    spec = importlib.util.spec_from_file_location("make_cli_docs", REPO / "docs" / "make_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cli_group():
    import typer

    from augment_gan.cli import app

    return typer.main.get_command(app)


def _prose(path: Path) -> str:
    """The page without its fenced code blocks (a `# comment` in bash is no heading)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*$", _prose(path), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_cli_docs_are_the_clis_own_help():
    cli_docs = _make_cli_docs()
    assert cli_docs.CLI_MD.read_text(encoding="utf-8") == cli_docs.render(), (
        "docs/cli.md differs from --help: run .venv/bin/python docs/make_cli_docs.py"
    )


def test_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert re.findall(r"\bissues?\s*#?\s*\d+", text, re.I) == []  # the history lives in CHANGELOG.md


def _command_table() -> list[tuple[str, str]]:
    """(command, library twin) per row of the README's command table."""
    section = README.read_text(encoding="utf-8").split("## Commands and their library twins", 1)[1]
    rows = [line for line in section.split("\n## ", 1)[0].splitlines() if line.startswith("| `")]
    pairs = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        commands = []
        for usage in re.findall(r"`([^`]+)`", cells[0]):
            words = usage.removeprefix("augment-gan ").split()
            commands.append(" ".join(words[:2]) if words[0] == "bento" else words[0])
        twins, module = [], ""
        for twin in re.findall(r"`([^`]+)`", cells[-1]):
            twin = module + twin if twin.startswith(".") else twin  # `.build`: the same module as before
            module = twin.rpartition(".")[0]
            twins.append(twin)
        assert len(commands) == len(twins), row
        pairs += zip(commands, twins)
    return pairs


def test_the_command_table_names_every_command_and_its_twin():
    table = _command_table()
    leaves = {" ".join(p) for p in _make_cli_docs().commands(_cli_group()) if p != ("bento",)}
    assert sorted(command for command, _ in table) == sorted(leaves)
    for command, twin in table:
        module, _, name = twin.rpartition(".")
        assert name == command.split()[-1], f"{command}'s twin {twin} is not of the same name"
        assert callable(getattr(importlib.import_module(module), name)), twin


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_resolves(page: Path):
    broken = []
    for target in LINK.findall(_prose(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no such heading in {linked.relative_to(REPO)}")
    assert broken == []
