"""Shared fixtures for the evaluation tests."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def quiet() -> Callable[..., Any]:
    """Call a function with its stdout swallowed (``prdc.compute_prdc`` prints sizes)."""

    def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            return function(*args, **kwargs)

    return call
