"""docs/benchmarks.md is generated from the result files, and results of every shape read alike."""

from benchmarks import collate, render, shapes
from tests.benchmarks.helpers import REPO


def test_docs_benchmarks_md_is_what_collate_writes():
    text = (REPO / "docs" / "benchmarks.md").read_text()
    assert text == collate.render(), "docs/benchmarks.md is out of date: run python -m benchmarks.collate"


def test_every_committed_result_has_a_section():
    kinds = {shapes.kind_of(name, result) for name, result in collate.load_results(collate.common.RESULTS)}
    assert kinds <= set(render.SECTIONS) == set(render.RENDERERS)


def test_a_difference_whose_interval_contains_zero_is_a_tie():
    assert render.diff({"mean": 0.01, "ci95": [-0.002, 0.02]}).endswith(" tie")
    assert render.diff({"mean": 0.01, "ci95": [0.002, 0.02]}).endswith("**better**")
    assert render.diff({"mean": -0.01, "ci95": [-0.02, -0.002]}).endswith("**worse**")
    assert render.diff({"mean": 0.01, "ci95": None}) == "+0.010 (one seed)"


def test_kind_of_reads_the_benchmark_field_then_the_file_name():
    assert shapes.kind_of("utility-minor5.json", {"benchmark": "utility"}) == "downstream"
    assert shapes.kind_of("utility-rgb.json", {"benchmark": "utility_check"}) == "downstream"
    assert shapes.kind_of("downstream-mnist.json", {"benchmark": "downstream"}) == "downstream"
    assert shapes.kind_of("metrics_speed.json", {"benchmark": "FID + precision/recall ..."}) == "metrics_speed"
    assert shapes.kind_of("photos_128.json", {}) == "photos_128"
    assert shapes.kind_of("time_to_quality-10min.json", {"benchmark": "time_to_quality"}) == "time_to_quality"
    assert shapes.kind_of("gpu/ddp.json", {"part": "ddp"}) == "gpu_check"


def _gate(passed: bool, **extra) -> dict:
    return {"passed": passed, "reasons": [] if passed else ["kid 52 > 10 (n=15)"], **extra}


def test_the_gate_means_the_gate_alone_in_every_shape():
    new = {
        "benchmark": "downstream",
        "gan": {
            "gate": {"3": _gate(True), "8": _gate(False)},
            "decision": {"3": _gate(False, utility="hurts"), "8": _gate(False)},
            "promoted_classes": [],
        },
    }
    # utility.py: "gate" held the final decision, the utility check's verdict beside it
    final = {"benchmark": "utility", "gan": {"gate": {"3": _gate(False, utility="hurts"), "8": _gate(False)}}}
    expected = {
        "3": {"gate": True, "utility": "hurts", "promoted": False},
        "8": {"gate": False, "utility": None, "promoted": False},
    }
    assert shapes.gate_view(new) == shapes.gate_view(final) == expected
    assert shapes.gate_reasons(final, "3") == []  # its recorded reasons were the utility check's
    # utility_check.py: the gate alone, nothing recorded of the utility check or the promotion
    alone = {"benchmark": "utility_check", "gan": {"gate": {"7": _gate(True)}}}
    assert shapes.gate_view(alone) == {"7": {"gate": True, "utility": None, "promoted": None}}
