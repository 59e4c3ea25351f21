"""Every arrow between packages points downstream (docs/ARCHITECTURE.md, "The layering rule").

Each case imports one package (or module) in a fresh interpreter and lists what it pulled
in: lazy imports make a static read of the source lie, ``sys.modules`` does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = (
    "data",
    "nets",
    "run",
    "training",
    "evaluation",
    "export",
    "runtime",
    "augment",
    "service",
    "promote",
    "pipeline",
    "demo",
    "cli",
)


def _pkg(*names: str) -> set[str]:
    return {f"augment_gan.{n}" for n in names}


def above(stage: str) -> set[str]:
    """The stages after ``stage`` in the pipeline (what it must never import)."""
    return _pkg(*STAGES[STAGES.index(stage) + 1 :])


# module -> what importing it (and everything it imports) must not load
RULES: dict[str, set[str]] = {
    "augment_gan.contracts": {"torch", *_pkg(*STAGES)},
    "augment_gan.contracts.run_dir": {"torch", *_pkg(*STAGES)},
    "augment_gan.contracts.model_dir": {"torch", *_pkg(*STAGES)},
    "augment_gan.contracts.manifest": {"torch", *_pkg(*STAGES)},
    "augment_gan.contracts.reports": {"torch", *_pkg(*STAGES)},
    "augment_gan.contracts.selection": {"torch", *_pkg(*STAGES)},
    "augment_gan.data": {"torch", *above("data")},  # the names resolve lazily
    "augment_gan.data.images": above("data"),
    "augment_gan.data.folder": {"torch", *above("data")},
    "augment_gan.nets": above("nets"),
    "augment_gan.training": above("training"),
    "augment_gan.run": above("run"),
    "augment_gan.run.spec": {"torch", *above("run")},
    "augment_gan.run.run": above("run"),
    "augment_gan.evaluation": {*above("evaluation"), "augment_gan.training"},  # a Run, not the trainer
    "augment_gan.evaluation.checkpoints": {*above("evaluation"), "augment_gan.training"},
    "augment_gan.evaluation.evaluate": {*above("evaluation"), "augment_gan.training"},
    "augment_gan.export": {*above("export"), "augment_gan.training"},
    "augment_gan.export.onnx_export": {*above("export"), "augment_gan.training"},
    "augment_gan.promote": {*_pkg("runtime", "augment", "pipeline", "cli"), "augment_gan.training"},
    "augment_gan.runtime": {"torch", *_pkg("data", "nets", "training", "evaluation", "export", "augment", "service")},
    "augment_gan.runtime.selection": {
        "torch",
        *_pkg("data", "nets", "training", "evaluation", "export", "augment", "service"),
    },
    "augment_gan.runtime.augmenter": {
        "torch",
        *_pkg("data", "nets", "training", "evaluation", "export", "augment", "service"),
    },
    "augment_gan.runtime.plan": {
        "torch",
        "onnxruntime",
        *_pkg("data", "nets", "training", "evaluation", "export", "augment", "service"),
    },
    "augment_gan.runtime.target": {
        "torch",
        *_pkg("data", "nets", "training", "evaluation", "export", "augment", "service"),
    },
    "augment_gan.runtime.datasets": _pkg("data", "nets", "training", "evaluation", "export", "augment", "service"),
    "augment_gan.runtime.balanced": _pkg("data", "nets", "training", "evaluation", "export", "augment", "service"),
    "augment_gan.augment": {
        "torch",
        *_pkg("nets", "training", "evaluation", "export", "service", "promote", "pipeline"),
    },
    "augment_gan.cli": {"torch", "bentoml"},  # a command imports its stage when it runs
    "augment_gan.pipeline.options": {"torch"},
    "augment_gan.events": {"torch", *_pkg(*STAGES)},  # every stage may take one
    "augment_gan.service": {"torch", "bentoml", *_pkg("data", "nets", "training", "evaluation", "export")},
}


def imported_by(module: str) -> list[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def forbidden_hits(loaded: list[str], forbidden: set[str]) -> list[str]:
    return sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(RULES))
def test_imports_point_downstream(module: str) -> None:
    assert forbidden_hits(imported_by(module), RULES[module]) == []


@pytest.mark.slow
def test_the_service_imports_no_torch() -> None:
    loaded = imported_by("augment_gan.service.app")
    assert forbidden_hits(loaded, {"torch", *_pkg("data", "nets", "training", "evaluation", "export")}) == []


def test_forbidden_hits_sees_submodules_and_not_prefixes() -> None:
    loaded = ["torch", "torch.nn", "torchvision", "augment_gan.data.cache", "augment_gan.database"]
    assert forbidden_hits(loaded, {"torch", "augment_gan.data"}) == ["augment_gan.data.cache", "torch", "torch.nn"]
