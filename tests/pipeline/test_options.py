"""The pipeline's options: torch-free, and their defaults are the configs' own."""

import json
import subprocess
import sys

import pytest

from augment_gan.errors import ConfigError
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.domain import JudgeConfig
from augment_gan.pipeline import Balance, TrainEval
from augment_gan.run import EvalSchedule


def test_the_judge_steps_default_is_the_judges() -> None:
    assert EvalConfig().judge_steps == JudgeConfig().steps


def test_train_eval_builds_the_eval_config_with_the_runs_seed() -> None:
    cfg = TrainEval(every=5, config=EvalConfig(samples_per_class=12, judge_steps=7)).eval_config(seed=3)
    assert cfg == EvalConfig(samples_per_class=12, judge_steps=7, seed=3)
    assert TrainEval().eval_config(seed=0) == EvalConfig()
    assert TrainEval(every=5, config=EvalConfig(samples_per_class=12)).schedule == EvalSchedule(5, 12, 400)


def test_balance_into_out_or_a_copy_not_both(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        Balance(out=tmp_path / "a", copy_to=tmp_path / "b")


@pytest.mark.slow
def test_the_package_loads_a_stage_only_when_asked() -> None:
    code = (
        "import json, sys; from augment_gan.pipeline import Balance, Placement; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('augment_gan.pipeline'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["augment_gan.pipeline", "augment_gan.pipeline.options"]
