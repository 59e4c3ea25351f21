"""The metric registry: a metric registered once is computed per class, calibrated, gated,
offered as a gate option on the command line and shown in the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from augment_gan.cli.options import gate_options
from augment_gan.evaluation.calibration import Sizes, real_band
from augment_gan.evaluation.evaluate import EvalConfig, class_metrics
from augment_gan.evaluation.gate import GateThresholds, apply_gate
from augment_gan.evaluation.registry import (
    ANOTHER_CLASS,
    LOWER,
    ClassSets,
    Metric,
    get_metric,
    is_valid_metric,
    list_valid_metrics,
    register_metric,
    unregister_metric,
)
from augment_gan.evaluation.report import build_report

CFG = EvalConfig(kid_subsets=5, kid_subset_size=50)
BUILT_IN = [
    "fid",
    "kid",
    "precision",
    "recall",
    "coverage",
    "spread",
    "class_consistency",
    "nearest_class",
    "copy_rate",
]


def mean_shift(sets: ClassSets, cfg: EvalConfig) -> dict:
    """A toy metric: how far the samples' mean lies from the reference's."""
    return {"mean_shift": float(np.linalg.norm(sets.fake.mean(0) - sets.reference.mean(0)))}


@pytest.fixture
def toy_metric():
    metric = register_metric(
        Metric(
            name="mean_shift",
            direction=LOWER,
            threshold=1.0,
            field="max_mean_shift",
            help="max distance between the samples' and the reference's mean",
            compute=mean_shift,
            bad_set=ANOTHER_CLASS,
            label="mean shift",
        )
    )
    yield metric
    unregister_metric("mean_shift")


def _report(value: float) -> dict:
    record = {
        "n_reference": 100,
        "fid": 1.0,
        "kid": 0.1,
        "precision": 0.9,
        "recall": 0.9,
        "coverage": 0.9,
        "spread": 1.0,
        "class_consistency": 1.0,
        "nearest_class": 1.0,
        "copy_rate": 0.0,
        "mean_shift": value,
    }
    return {"step": 1, "overall": {"fid": 1.0, "n_real": 100}, "classes": {"c": record}}


def test_the_built_in_metrics_are_registered_in_gate_order() -> None:
    assert list_valid_metrics() == BUILT_IN
    assert is_valid_metric("kid") and not is_valid_metric("mean_shift")
    assert get_metric("class_consistency").option_name == "min_consistency"


def test_a_name_registers_once(toy_metric: Metric) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_metric(toy_metric)


def test_a_registered_metric_is_computed_per_class_and_gets_a_band(toy_metric: Metric) -> None:
    rng = np.random.default_rng(0)
    unseen = [rng.normal(loc=c, size=(40, 4)) for c in range(2)]
    seen = [rng.normal(loc=c, size=(20, 4)) for c in range(2)]
    record = class_metrics(reference=unseen[0][:20], train=seen[0], holdout=unseen[0][:20], fake=unseen[1], cfg=CFG)
    assert record["mean_shift"] == pytest.approx(np.linalg.norm(unseen[1].mean(0) - unseen[0][:20].mean(0)))
    assert list(record)[-1] == "mean_shift"  # after the built-in keys, which keep their order
    band = real_band(unseen, seen, 0, Sizes(20, 20, 20), lambda **s: class_metrics(**s, cfg=CFG), **_draws())
    assert band is not None and band["metrics"]["mean_shift"]["bad_set"] == "another class"
    assert band["metrics"]["mean_shift"]["bad"] > band["metrics"]["mean_shift"]["hi"]  # another class is far


def _draws() -> dict:
    return {"draws": 10, "false_rejection": 0.05, "seed": 0}


def test_the_gate_checks_a_registered_metric(toy_metric: Metric) -> None:
    assert apply_gate(_report(0.5), GateThresholds())["per_class"]["c"]["passed"]
    failed = apply_gate(_report(1.5), GateThresholds())["per_class"]["c"]
    assert failed["reasons"] == ["mean_shift 1.5 > 1 (n=100)"]
    decision = apply_gate(_report(1.5), GateThresholds(max_mean_shift=2.0))
    assert decision["per_class"]["c"]["passed"] and decision["thresholds"]["max_mean_shift"] == 2.0


def test_a_gate_file_sets_a_registered_metric(toy_metric: Metric, tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text("[gate]\nmax_mean_shift = 0.25\n")
    assert GateThresholds.from_toml(path).max_mean_shift == 0.25


def test_the_cli_offers_a_registered_metric_as_a_gate_option(toy_metric: Metric) -> None:
    seen = {}
    app = typer.Typer()

    @app.command()
    @gate_options
    def evaluate(*, gate: GateThresholds) -> None:
        seen["gate"] = gate

    runner = CliRunner()
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "--max-mean-shift" in result.output
    assert "Gate: max distance between the samples' and the reference's mean." in result.output
    assert runner.invoke(app, ["--max-mean-shift", "0.5", "--min-consistency", "0.6"]).exit_code == 0
    assert seen["gate"].max_mean_shift == 0.5 and seen["gate"].min_class_consistency == 0.6


def test_the_report_shows_a_registered_metric(toy_metric: Metric, tmp_path: Path) -> None:
    report = {**_report(0.123), "features": "domain", "judge": {"accuracy": 1.0, "n": 10}}
    report["overall"]["kid"] = 0.1
    report["classes"]["c"] |= {"n_fake": 2, "n_train": 5, "n_pr": 2, "reference": "holdout"}
    fakes = torch.zeros((2, 1, 8, 8), dtype=torch.uint8)
    text = build_report(tmp_path, report, None, fakes, [fakes])
    assert "<th>mean shift</th>" in text and "<td>0.123</td>" in text
