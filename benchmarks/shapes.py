"""Result files of every shape, read the same way: which benchmark wrote a file, and the gate
side of a downstream result whatever its age.

The downstream results were written by three scripts in turn. ``downstream.py`` (now) keeps
the gate's checks alone under ``gan.gate``, promote's utility check under
``gan.utility_check``, and the final decision per class under ``gan.decision``. The MNIST
``utility.py`` (before it) kept, under ``gan.gate``, the final decision: the gate, then the
utility check, with each class's check verdict as ``utility`` (files written before the
check existed have no ``utility`` key). ``utility_check.py`` (digits, rgb) kept the gate's
checks alone and did not record the utility check. Nothing is invented for what a file
did not record: it reads as None.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

KINDS = (
    "downstream",
    "complementarity",
    "classifier_grid",
    "indicator_check",
    "step_pick",
    "run_defaults",
    "quality",
    "time_to_quality",
    "gate_calibration",
    "metrics_speed",
    "generation_speed",
    "train_speed",
    "photos_128",
    "service_load",
    "soak",
    "contract_fuzz",
    "gpu_check",
)
DOWNSTREAM_NAMES = ("downstream", "utility", "utility_check")  # the script that wrote it, then and now


def kind_of(name: str, result: dict[str, Any]) -> str:
    """The benchmark a result file belongs to: its ``benchmark`` field when that names one,
    else its file name (``utility-minor5.json`` is downstream, ``gpu/*.json`` the GPU check)."""
    if name.startswith("gpu/"):
        return "gpu_check"
    declared = result.get("benchmark")
    if declared in DOWNSTREAM_NAMES:
        return "downstream"
    if declared in KINDS:
        return declared
    stem = Path(name).stem
    if stem.split("-")[0] in DOWNSTREAM_NAMES:
        return "downstream"
    return next((k for k in KINDS if stem == k or stem.startswith(k + "-")), stem)


def minority_of(result: dict[str, Any]) -> list[str]:
    if "minority_classes" in result:
        return list(result["minority_classes"])
    return [str(d) for d in result.get("split", {}).get("minority_digits", [])]


def gate_view(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per class: ``gate`` (the gate's checks alone: passed or not, or None), ``utility`` (the
    utility check's verdict, or None: not run or not recorded), ``promoted`` (in the gated
    model, or None: not recorded)."""
    gan = result.get("gan", {})
    rows = {}
    for c, r in gan.get("gate", {}).items():
        if "decision" in gan:  # downstream.py
            final = gan["decision"][c]
            rows[c] = {"gate": r["passed"], "utility": final.get("utility"), "promoted": c in gan["promoted_classes"]}
        elif "utility" in r:  # utility.py with the utility check: "gate" held the final decision
            # the check runs only on classes the gate passed and fails only those it finds hurt
            rows[c] = {"gate": r["passed"] or r["utility"] == "hurts", "utility": r["utility"], "promoted": r["passed"]}
        elif result.get("benchmark") == "utility":  # utility.py before the utility check: the gate alone
            rows[c] = {"gate": r["passed"], "utility": None, "promoted": r["passed"]}
        else:  # utility_check.py: the gate alone; the utility check was not recorded
            rows[c] = {"gate": r["passed"], "utility": None, "promoted": None}
    return rows


def gate_reasons(result: dict[str, Any], c: str) -> list[str]:
    """Why the gate's checks failed class c (empty when they passed it)."""
    gan = result.get("gan", {})
    r = gan.get("gate", {}).get(c, {})
    if "decision" not in gan and r.get("utility") == "hurts":
        return []  # the reasons recorded are the utility check's
    return list(r.get("reasons", []))


def command_of(kind: str, result: dict[str, Any]) -> str | None:
    """The command that produced a result (``contract_fuzz.json`` of before ``schemathesis_command``
    kept schemathesis's own command line under ``command``: not the benchmark's)."""
    if kind == "contract_fuzz" and "schemathesis_command" not in result:
        return None
    return result.get("command")
