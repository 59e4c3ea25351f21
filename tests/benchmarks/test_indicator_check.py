"""The indicator check's statistics, and the script end to end on a quick classifier grid."""

import json
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import indicator_check as ic
from benchmarks.common import DEFAULT_MNIST as MNIST
from tests.benchmarks.helpers import REPO


def test_ranks_give_ties_their_mean_rank():
    assert ic.ranks(np.array([0.3, 0.1, 0.3, 0.2])).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_spearman_is_one_for_any_increasing_map_and_none_for_a_constant():
    x = [0.1, 0.5, 0.2, 0.9, 0.3]
    assert ic.spearman(x, [v**3 for v in x]) == pytest.approx(1.0)
    assert ic.spearman(x, [-v for v in x]) == pytest.approx(-1.0)
    assert ic.spearman(x, [1, 1, 1, 1, 1]) is None
    # against the textbook formula 1 - 6 sum d^2 / (n (n^2 - 1)) (no ties)
    y = [2, 1, 4, 3, 5]
    d = ic.ranks(np.array(x)) - ic.ranks(np.array(y, float))
    assert ic.spearman(x, y) == pytest.approx(1 - 6 * (d**2).sum() / (5 * 24))


def test_correlation_bootstraps_an_interval_around_rho():
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    c = ic.correlation(list(x), list(x + rng.normal(scale=0.3, size=40)), n_boot=300)
    assert c["n"] == 40 and c["ci95"][0] < c["rho"] < c["ci95"][1] and c["ci95"][0] > 0.4


def test_summary_counts_skipped_digits_apart():
    rows = [
        {"delta_cov": 0.1, "gan - a_prime (test)": 0.02},
        {"delta_cov": 0.0, "gan - a_prime (test)": -0.01},
        {"delta_cov": 0.05, "gan - a_prime (test)": 0.0},
        {"skipped": "the model did not serve the digit", "gan - a_prime (test)": 0.0},
    ]
    s = ic.summarise(rows, n_boot=50)
    assert (s["n_pairs"], s["n_skipped"]) == (3, 1)
    assert s["spearman"]["gan - a_prime (test)"]["rho"] == pytest.approx(1.0)
    assert s["delta_cov_mean"] == pytest.approx(0.05)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_it_runs_on_a_quick_classifier_grid_with_its_work_dir_kept(tmp_path):
    if not (MNIST / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip(f"MNIST t10k not found at {MNIST}")
    grid, out, keep = tmp_path / "grid.json", tmp_path / "check.json", tmp_path / "work"
    for args in (
        ["classifier_grid", "--quick", "--out", str(grid), "--keep", str(keep)],
        ["indicator_check", "--quick", "--result", str(grid), "--keep", str(keep), "--out", str(out)],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{args[0]}", *args[1:]], capture_output=True, text=True, cwd=REPO
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["benchmark"] == "indicator_check" and len(result["pairs"]) == 2
    assert result["summary"]["n_pairs"] + result["summary"]["n_skipped"] == 2
    for row in result["pairs"]:
        assert "delta_cov" in row or row["skipped"]
