"""Importing a benchmark module (``benchmarks`` is a package at the repository root) to test its pieces."""

import importlib
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks.<name>``, as ``python -m benchmarks.<name>`` runs it."""
    return importlib.import_module(f"benchmarks.{name}")
