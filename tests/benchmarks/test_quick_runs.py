"""Every benchmark still runs end to end: ``python -m benchmarks.<name> --quick``, into a temp file.

The figures of a quick run mean nothing (tiny sizes, a loaded CI machine); these tests only
keep the scripts from rotting. The real results are in benchmarks/results/.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.common import DEFAULT_MNIST as MNIST
from tests.benchmarks.helpers import REPO

PROVENANCE = ["command", "machine", "versions", "code"]
# run id -> (module, extra args, keys its JSON must have besides the provenance)
RUNS = {
    "metrics_speed": ("metrics_speed", [], ["median_seconds", "ratio_ours_over_theirs"]),
    "generation_speed": ("generation_speed", [], ["results"]),
    "train_speed": ("train_speed", ["--steps", "3"], ["results", "overhead", "eval_share"]),
    "service_load": ("service_load", [], ["levels", "done_when"]),
    "soak": ("soak", [], ["soak", "worker_killed", "files_changed"]),
    "downstream-mnist": ("downstream", ["--data", "mnist"], ["strategies", "paired_vs_baselines", "gan", "c_plus"]),
    "downstream-digits": ("downstream", ["--data", "digits"], ["strategies", "paired_vs_baselines", "gan", "c_plus"]),
    "downstream-rgb": ("downstream", ["--data", "rgb"], ["strategies", "paired_vs_baselines", "gan", "c_plus"]),
    "quality": ("quality", [], ["variants", "real_floor"]),
    "time_to_quality": ("time_to_quality", ["--variants", "old-default,default"], ["variants", "real_floor"]),
    "gate_calibration": ("gate_calibration", [], ["sizes", "samples_per_class"]),
    "photos_128": ("photos_128", [], ["median_sec_per_step", "grid"]),
    "complementarity": (
        "complementarity",
        ["--generators", "no-daug,small-daug,small-daug-inversion,dagan"],
        ["replicates", "summary", "budget"],
    ),
    "classifier_grid": ("classifier_grid", [], ["replicates", "summary", "grid_on_validation", "budgets"]),
    "run_defaults": ("run_defaults", ["--data", "rgb"], ["seconds", "classes", "small_passing_somewhere_get_samples"]),
}
NEEDS_MNIST = (
    "downstream-mnist",
    "quality",
    "time_to_quality",
    "gate_calibration",
    "complementarity",
    "classifier_grid",
)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("run", sorted(RUNS))
def test_quick_run_writes_its_json(run: str, tmp_path: Path) -> None:
    if run in NEEDS_MNIST and not (MNIST / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip(f"MNIST t10k not found at {MNIST}")
    module, args, keys = RUNS[run]
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--quick", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=880,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    missing = [k for k in [*PROVENANCE, *keys] if k not in result]
    assert not missing, f"{run}'s JSON lacks {missing}; has {sorted(result)}"
    assert result["benchmark"] == module and result["preset"] == "quick"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_gpu_check_quick_runs_every_part_on_cpu(tmp_path: Path) -> None:
    """What a GPU machine will run, at toy sizes on this CPU: every part ends ok (the time
    to quality is skipped without MNIST), with the CUDA-only configurations listed as not run."""
    out = tmp_path / "gpu"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_check", "--quick", "--out", str(out), "--mnist", str(MNIST)],
        capture_output=True,
        text=True,
        timeout=880,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    expected_ttq = "ok" if (MNIST / "t10k-labels-idx1-ubyte.gz").is_file() else "skipped"
    assert {part: v["status"] for part, v in summary["parts"].items()} == {
        "train_speed": "ok",
        "ddp": "ok",
        "onnx_generation": "ok",
        "service": "ok",
        "time_to_quality": expected_ttq,
    }
    parts = {p: json.loads((out / f"{p}.json").read_text()) for p in summary["parts"]}
    speed = parts["train_speed"]
    assert {(r["resolution"], r["precision"]) for r in speed["rows"]} == {(32, "fp32"), (64, "fp32"), (128, "fp32")}
    assert {(r["precision"], r["channels_last"], r["why"]) for r in speed["not_run"]} == {
        ("bf16", False, "needs CUDA"),
        ("fp32", True, "needs CUDA"),
        ("bf16", True, "needs CUDA"),
    }
    assert (parts["ddp"]["world_size"], parts["ddp"]["backend"], parts["ddp"]["sync_batchnorm"]) == (1, "gloo", False)
    assert parts["onnx_generation"]["stderr_bytes"] == 0
    assert all(r["auto_provider"] == "CPUExecutionProvider" for r in parts["onnx_generation"]["rows"])
    assert [lv["concurrency"] for lv in parts["service"]["levels"]] == [8, 32]
    assert all(lv["errors"] == 0 and lv["images_per_s"] > 0 for lv in parts["service"]["levels"])
