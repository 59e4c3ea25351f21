"""The promotion gate: per-class checks on an evaluation report.

A class passes when every check passes; a checkpoint is promotable when at least one
class passes and the overall FID is under its ceiling. Failing classes are recorded with
the reasons (metric, value, threshold, sample size), so augment can say why it skips them.

Calibrated (the default, when the report carries real-vs-real bands, ``calibration.py``):

* fidelity (FID, KID, precision, class consistency) and the copy rate pass when they are
  better than the fixed bar *or* inside the band real images of the class's size reach: a
  small class is never asked for more than real data of that size can show;
* diversity (recall, coverage) must reach a share (``min_recall_vs_real``,
  ``min_coverage_vs_real``) of the low end of real images' band at that size, so a
  collapsed class fails whatever its size;
* a metric whose threshold admits its bad set (images of another class; one image
  repeated; training images repeated) cannot tell at that size: it becomes a warning.

Without bands (a report from before them, or a class too small for any) the fixed
thresholds decide alone.

Which metrics are checked, which way, against which default bar and how their band
calibrates it: the metric registry (``registry.py``); the checks run in its order.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augment_gan.contracts.reports import ClassRecord, EvalReport, GateDecision
from augment_gan.errors import ConfigError
from augment_gan.evaluation.registry import gated_metrics


def gate_defaults() -> dict[str, float | int | bool]:
    """Every gate key with its default, in the order gate decisions list them: each
    registered metric's bar, the overall FID ceiling, each metric's minimum reference size,
    ``calibrated``, each diversity metric's share of its band."""
    metrics = gated_metrics()
    out: dict[str, float | int | bool] = {m.field: m.threshold for m in metrics}
    out["max_overall_fid"] = 20.0
    out.update({m.needs.field: m.needs.min_reference for m in metrics if m.needs is not None})
    out["calibrated"] = True  # use the report's real-vs-real bands where it has them
    out.update({m.share.field: m.share.default for m in metrics if m.share is not None})
    return out


class GateThresholds:
    """The gate's thresholds: each registered metric's bar (``max_fid``, ``min_precision``, ...,
    the gate-file keys; defaults in ``evaluation/registry.py``), its minimum reference size
    (``fid_min_reference``) and band share (``min_recall_vs_real``), ``max_overall_fid`` and
    ``calibrated``. Immutable; read a value as an attribute (``t.max_fid``).

    The keys come from the registry when read, so a metric registered later has its
    default bar here too."""

    def __init__(self, **values: Any) -> None:
        unknown = sorted(set(values) - set(gate_defaults()))
        if unknown:
            raise TypeError(f"GateThresholds got unknown keys {unknown}; known keys: {sorted(gate_defaults())}.")
        self.__dict__["_given"] = dict(values)

    def as_dict(self) -> dict[str, float | int | bool]:
        """Every key and its value, in :func:`gate_defaults`' order (a gate decision's ``thresholds``)."""
        return {**gate_defaults(), **self.__dict__["_given"]}

    def __getattr__(self, name: str) -> Any:
        given = self.__dict__.get("_given")
        if given is None or name.startswith("__"):
            raise AttributeError(name)
        if name in given:
            return given[name]
        defaults = gate_defaults()
        if name not in defaults:
            raise AttributeError(f"GateThresholds has no key {name!r}")
        return defaults[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("GateThresholds is immutable: use with_overrides().")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GateThresholds) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().items()))

    def __repr__(self) -> str:
        return "GateThresholds(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"

    @classmethod
    def from_toml(cls, path: Path) -> GateThresholds:
        try:
            values = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"gate file {path} does not exist.") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"gate file {path} is not valid TOML ({e}).") from None
        values = values.get("gate", values)
        known = set(gate_defaults())
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"gate file {path} has unknown keys {unknown}; known keys: {sorted(known)}.")
        return cls(**values)

    def with_overrides(self, **overrides: float | bool | None) -> GateThresholds:
        return GateThresholds(**{**self.__dict__["_given"], **{k: v for k, v in overrides.items() if v is not None}})


@dataclass(frozen=True)
class Check:
    metric: str
    value: float | None
    op: str  # "<=" or ">="
    threshold: float
    band: dict | None = None  # the metric's real-vs-real band, when calibrated
    warning_only: bool = False  # the threshold admits the metric's bad set at this size
    absent: bool = False  # the report predates the metric

    @property
    def passed(self) -> bool:
        return _passes(self.value, self.op, self.threshold)


def _checks(record: ClassRecord, t: GateThresholds) -> tuple[list[Check], list[str]]:
    """Every registered metric's check of one class record, calibrated by its band where it
    has one; and the checks not run at this class's size, each with why."""
    bands = (record.get("band") or {}).get("metrics", {}) if t.calibrated else {}
    n = record["n_reference"]
    checks, not_run = [], []
    for metric in gated_metrics():
        if metric.needs is not None and n < getattr(t, metric.needs.field):
            not_run.append(f"{metric.name}: needs >= {getattr(t, metric.needs.field)} reference images, has {n}")
            continue
        op, threshold = metric.op, getattr(t, metric.field)
        if metric.name not in record:  # a report written before the metric existed: cannot vouch
            checks.append(Check(metric.name, None, op, threshold, absent=True))
            continue
        value = record[metric.name]  # type: ignore[literal-required]
        if value is None and metric.sized:
            not_run.append(f"{metric.name}: {metric.unsized.format(n=n)}")
            continue
        band = bands.get(metric.name)
        if band is None:
            checks.append(Check(metric.name, value, op, threshold))
            continue
        if metric.share is not None:
            threshold = getattr(t, metric.share.field) * band["lo"]
        elif op == "<=":
            threshold = max(threshold, band["hi"])
        else:
            threshold = min(threshold, band["lo"])
        warning_only = band["bad"] is not None and _passes(band["bad"], op, threshold)
        checks.append(Check(metric.name, value, op, threshold, band, warning_only))
    return checks, not_run


def _passes(value: float | None, op: str, threshold: float) -> bool:
    if value is None:  # metric could not be computed (class too small): cannot vouch for it
        return threshold <= 0 if op == ">=" else False
    return value <= threshold if op == "<=" else value >= threshold


def _reason(check: Check, n: int) -> str:
    if check.absent:
        return f"{check.metric} not in this report (evaluated before the check existed): run evaluate again"
    if check.value is None:
        return f"{check.metric} not computable with {n} reference images"
    failed = ">" if check.op == "<=" else "<"
    text = f"{check.metric} {check.value:.3g} {failed} {check.threshold:.3g} (n={n}"
    return text + (f"; {_band_text(check)})" if check.band else ")")


def _band_text(check: Check) -> str:
    band = check.band or {}
    return f"real images of this size: {band['lo']:.3g} to {band['hi']:.3g}"


def _warning(check: Check, n: int) -> str:
    band = check.band or {}
    return (
        f"{check.metric} not gated at n={n}: its threshold {check.threshold:.3g} admits "
        f"{band['bad_set']} ({band['bad']:.3g}); {_band_text(check)}"
    )


def apply_gate(report: EvalReport, thresholds: GateThresholds) -> GateDecision:
    """Decide per class. Returns ``{"ran", "thresholds", "overall", "per_class", "passed_classes"}``;
    each class's decision has its ``reasons`` (failures), ``warnings`` and whether it was
    ``calibrated`` by real-vs-real bands."""
    overall_fid = report["overall"]["fid"]
    overall_ok = overall_fid <= thresholds.max_overall_fid
    overall_reasons = (
        []
        if overall_ok
        else [f"overall fid {overall_fid:.3g} > {thresholds.max_overall_fid:.3g} (n={report['overall']['n_real']})"]
    )
    per_class = {}
    for name, record in report["classes"].items():
        (checks, not_run), n = _checks(record, thresholds), record["n_reference"]
        reasons = [_reason(c, n) for c in checks if not c.passed and not c.warning_only]
        reasons += overall_reasons
        per_class[name] = {
            "passed": not reasons,
            "reasons": reasons,
            "warnings": [_warning(c, n) for c in checks if c.warning_only],
            "calibrated": any(c.band for c in checks),
            "checks_run": [c.metric for c in checks],
            "not_run": not_run,
        }
        if "steps" in report:  # a routed model: each class judged at its own step
            per_class[name]["step"] = report["steps"][name]
    return {
        "ran": True,
        "step": report["step"],
        "thresholds": thresholds.as_dict(),
        "overall": {"passed": overall_ok, "reasons": overall_reasons},
        "per_class": per_class,
        "passed_classes": [name for name, r in per_class.items() if r["passed"]],
    }


def selection_score(decision: GateDecision, report: EvalReport) -> tuple[int, float]:
    """The declared "best checkpoint" criterion: most classes passing the gate, then the
    lowest mean per-class KID. Larger tuples are better."""
    kids = [r["kid"] for r in report["classes"].values()]
    return len(decision["passed_classes"]), -sum(kids) / len(kids)
