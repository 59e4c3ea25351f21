"""The pipeline: each stage as the CLI runs it (:mod:`.stages`), and the whole job in one call (:mod:`.job`).

=================  ==========================================================
``run``            folder -> train with evaluation -> best step -> gate -> promote (-> balance)
``train``          a new run (or, with ``resume=True``, the latest run of a name)
``resume``         a run dir, from its newest checkpoint
``evaluate``       checkpoints of a run, per class, gated
``promote``        an evaluated step -> the next model dir, if any class passes
``export``         a checkpoint -> a model dir, without the gate
=================  ==========================================================

Names resolve lazily, so the options (:mod:`.options`) import no torch.

Example::

    from augment_gan.pipeline import Balance, run
    result = run("data/train", "pets", balance=Balance(out="data/synthetic"))
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "options": ("MODELS_DIR", "Balance", "Runtime", "TrainEval", "TrainEvents"),
    "job": ("PipelineResult", "balance_folder", "run"),
    "fit": ("Relaunched", "TrainStart", "Trained"),
    "stages": ("Evaluated", "Exported", "Promoted", "evaluate", "export", "promote", "resume", "train"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` when it is first asked for (PEP 562)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
