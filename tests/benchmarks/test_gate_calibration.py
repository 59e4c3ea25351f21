"""The calibration benchmark's arithmetic: the Wilson interval and the summary's counting."""

from tests.benchmarks.helpers import load_benchmark

gc = load_benchmark("gate_calibration")


def test_wilson_interval() -> None:
    lo, hi = gc.wilson(24, 24)
    assert 0.85 < lo < 0.87 and hi == 1.0
    lo, hi = gc.wilson(0, 10)
    assert lo == 0.0 and 0.27 < hi < 0.29
    assert gc.wilson(0, 0) == (0.0, 1.0)


def _result(passed: dict[str, bool]) -> dict:
    decision = {
        c: {"calibrated": {"passed": p, "reasons": [] if p else ["recall 0 < 0.2 (n=5)"]}, "fixed_passed": False}
        for c, p in passed.items()
    }
    return {name: decision for name in gc.SETS}


def test_summary_counts_small_and_big_classes_apart() -> None:
    trials = [_result({"0": True, "1": False, "2": True}), _result({"0": True, "1": True, "2": True})]
    summary = gc.summarise(trials, [(1,), (1, 2)])
    small = summary["real/small"]
    assert small["classes"] == 3 and small["pass_rate"] == 2 / 3 and small["failing_metrics"] == {"recall": 1}
    assert summary["real/big"]["classes"] == 3 and summary["real/big"]["pass_rate"] == 1.0
    assert summary["real/small"]["fixed_pass_rate"] == 0.0
