"""The time-to-quality benchmark's pure helpers (the full benchmark is run by hand)."""

import pytest

from tests.benchmarks.helpers import load_benchmark


def _groups(maj_fid: float, min_recall: float) -> dict:
    return {
        "majority": {"fid": maj_fid, "recall": 0.5},
        "minority": {"fid": 20.0, "recall": min_recall, "class_consistency": 0.9},
    }


def test_curve_point_checks_both_targets_against_the_real_floor():
    bench = load_benchmark("time_to_quality")
    floor = {"groups": {"majority": {"fid": 8.0}}}
    ok = bench.curve_point(600, 0.2, _groups(12.0, 0.6), floor)  # 12 = 1.5 x 8: on the line
    assert ok["cpu_minutes"] == pytest.approx(2.0) and ok["majority_fid_over_floor"] == pytest.approx(1.5)
    assert ok["meets_target"]
    assert not bench.curve_point(600, 0.2, _groups(12.1, 0.9), floor)["meets_target"]
    assert not bench.curve_point(600, 0.2, _groups(9.0, 0.59), floor)["meets_target"]


def test_first_hit_is_the_earliest_checkpoint_meeting_the_target():
    bench = load_benchmark("time_to_quality")
    points = [
        {"cpu_minutes": 1.0, "meets_target": False},
        {"cpu_minutes": 2.0, "meets_target": True},
        {"cpu_minutes": 3.0, "meets_target": True},
    ]
    assert bench.first_hit(points) == 2.0
    assert bench.first_hit(points[:1]) is None
