"""ONNX export + parity check (torch) and the onnxruntime generator runtime (no torch).

Names are resolved lazily so that ``from augment_gan.export import Generator`` never
imports torch; only the export functions do.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Augmenter": "augment_gan.export.augmenter",
    "Generator": "augment_gan.export.runtime",
    "UnknownClassError": "augment_gan.export.runtime",
    "ExportError": "augment_gan.export.onnx_export",
    "check_parity": "augment_gan.export.onnx_export",
    "export_checkpoint": "augment_gan.export.onnx_export",
    "export_generator_onnx": "augment_gan.export.onnx_export",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
