"""What the CLI tests share: the runner, tiny-run options, a lenient gate."""

from __future__ import annotations

from typer.testing import CliRunner

from augment_gan.cli import app

runner = CliRunner()

# a 2-step run of 4-channel nets: seconds on a CPU
TINY = [
    "--steps",
    "2",
    "--batch-size",
    "4",
    "--g-width",
    "4",
    "--d-width",
    "4",
    "--latent-dim",
    "8",
    "--checkpoint-every",
    "1",
]
FAST_EVAL = ["--judge-steps", "5"]
LENIENT = [
    "--max-fid",
    "1e9",
    "--max-kid",
    "1e9",
    "--min-precision",
    "0",
    "--min-recall",
    "0",
    "--min-coverage",
    "0",
    "--min-consistency",
    "0",
    "--min-spread",
    "0",
    "--min-nearest-class",
    "0",
    "--max-copy-rate",
    "1",
    "--max-overall-fid",
    "1e9",
    "--no-calibrated",  # the bands' shares (spread, nearest class) would still bar a tiny class
]
LENIENT_TOML = """[gate]
max_fid = 1e9
max_kid = 1e9
min_precision = 0.0
min_recall = 0.0
min_coverage = 0.0
min_class_consistency = 0.0
min_spread = 0.0
min_nearest_class = 0.0
min_spread_vs_real = 0.0
min_nearest_class_vs_real = 0.0
max_copy_rate = 1.0
max_overall_fid = 1e9
"""


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


def flat(output: str) -> str:
    """The output with rich's line wrapping undone (every run of whitespace one space)."""
    return " ".join(output.split())
