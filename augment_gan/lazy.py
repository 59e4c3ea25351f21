"""Package namespaces whose names import their module on first use (PEP 562).

Why: ``import augment_gan.<package>`` must stay cheap and torch-free where the package's
light modules are used on their own (the CLI's ``--help``, ``augment``, the runtime);
the heavy modules load when one of their names is asked for.

Example, in a package's ``__init__.py``::

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {"config": ("NetConfig",), "generator": ("Generator",)})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``; ``exports`` maps a submodule
    (relative name) to the names it defines."""
    module_of = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module_of[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(module_of)

    return __getattr__, __dir__, sorted(module_of)
