"""Each class's best evaluated step: passing first, then its lowest KID, then the later step."""

from augment_gan.evaluation.checkpoints import class_best_steps


def _report(step: int, kids: dict[str, float]) -> dict:
    return {"step": step, "classes": {name: {"kid": kid} for name, kid in kids.items()}}


def _decision(passed: dict[str, bool]) -> dict:
    return {"per_class": {name: {"passed": ok} for name, ok in passed.items()}}


def test_a_class_gets_its_lowest_kid_among_the_steps_that_pass_it() -> None:
    reports = [
        _report(500, {"big": 0.5, "small": 0.1}),
        _report(1000, {"big": 0.2, "small": 0.05}),  # small's lowest KID, but it copies here: fails
        _report(1500, {"big": 0.2, "small": 0.3}),
    ]
    decisions = {
        500: _decision({"big": True, "small": True}),
        1000: _decision({"big": True, "small": False}),
        1500: _decision({"big": True, "small": True}),
    }
    steps = class_best_steps(reports, decisions, run_best=1500)
    assert steps == {"big": {"step": 1500, "passed": True}, "small": {"step": 500, "passed": True}}


def test_a_class_no_step_passes_gets_the_runs_best_step() -> None:
    reports = [_report(500, {"a": 0.1}), _report(1000, {"a": 0.2})]
    decisions = {500: _decision({"a": False}), 1000: _decision({"a": False})}
    assert class_best_steps(reports, decisions, run_best=1000) == {"a": {"step": 1000, "passed": False}}
