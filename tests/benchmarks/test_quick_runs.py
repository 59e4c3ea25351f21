"""Every benchmark script still runs end to end: its ``--quick`` smoke run, into a temp file.

The figures of a quick run mean nothing (tiny sizes, a loaded CI machine); these tests only
keep the scripts from rotting. The real results are in benchmarks/results/.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.helpers import BENCHMARKS

MNIST = BENCHMARKS.parent.parent / "shared" / "datasets" / "mnist-t10k"

# script -> (extra args, keys its JSON must have)
SCRIPTS = {
    "metrics_speed.py": ([], ["median_seconds", "ratio_ours_over_theirs"]),
    "generation_speed.py": ([], ["results"]),
    "train_speed.py": (["--steps", "3"], ["results", "overhead", "eval_share"]),
    "service_load.py": ([], ["levels", "done_when"]),
    "soak.py": ([], ["soak", "worker_killed", "files_changed"]),
    "utility.py": ([], ["strategies"]),
    "quality.py": ([], ["variants"]),
    "time_to_quality.py": (["--variants", "old-default,default"], ["variants", "real_floor"]),
    "gate_calibration.py": ([], ["sizes", "samples_per_class"]),
}


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_quick_run_writes_its_json(script: str, tmp_path: Path) -> None:
    if script in ("utility.py", "quality.py", "time_to_quality.py", "gate_calibration.py") and not (MNIST / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip(f"MNIST t10k not found at {MNIST}")
    args, keys = SCRIPTS[script]
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--quick", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=880, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    missing = [k for k in keys if k not in result]
    assert not missing, f"{script}'s JSON lacks {missing}; has {sorted(result)}"
