"""Time our FID + precision/recall + density/coverage against pytorch-fid + prdc.

Both sides go from the same two feature matrices to final numbers:

* ours:   ``fid(real, fake)`` + ``manifold_metrics(real, fake, pr_k=3, dc_k=5)``
          (precision/recall with k = 3, density/coverage with k = 5, one pass);
* theirs: ``np.mean`` / ``np.cov`` (as ``pytorch_fid.fid_score`` computes statistics)
          + ``calculate_frechet_distance`` + ``prdc.compute_prdc(nearest_k=5)`` (which gives
          precision/recall/density/coverage, all with k = 5).

Runs are interleaved (ours, theirs, ours, theirs, ...) so background load hits both alike,
and the median of ``--repeats`` runs is reported. Results go to
``benchmarks/results/metrics_speed.json``. ``--quick`` uses 2,000 × 2,000 for a smoke run.

    python -m benchmarks.metrics_speed [--repeats 3] [--quick]

Needs the dev extras (pytorch-fid, prdc).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from augment_gan.evaluation.metrics import fid, manifold_metrics

from . import common

PRESETS = {"full": {"n": 10_000, "repeats": 3}, "quick": {"n": 2_000, "repeats": 3}}
DIM = 2048


def make_features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two seeded, independent float32 N×2048 standard-normal sets.

    Drawn from one distribution so that no metric is degenerate (at 10,000 samples:
    precision ≈ 0.44, recall ≈ 0.46, density ≈ 0.95, coverage ≈ 0.96).
    """
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n, DIM), dtype=np.float32)
    fake = rng.standard_normal((n, DIM), dtype=np.float32)
    return real, fake


def ours(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    return {"fid": fid(real, fake), **manifold_metrics(real, fake, pr_k=3, dc_k=5)}


def theirs(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    from prdc import compute_prdc
    from pytorch_fid.fid_score import calculate_frechet_distance

    # Statistics exactly as pytorch_fid.fid_score.calculate_activation_statistics makes them.
    stats = [stat for x in (real, fake) for stat in (np.mean(x, axis=0), np.cov(x, rowvar=False))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # sqrtm(disp=...) in SciPy ≥ 1.16
        value = float(calculate_frechet_distance(*stats))
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the set sizes
        scores = compute_prdc(real, fake, nearest_k=5)
    return {"fid": value, **{key: float(v) for key, v in scores.items()}}


def timed(function: Callable[..., dict[str, float]], *args: Any) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    out = function(*args)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, help="timed runs per side (median reported; default 3)")
    parser.add_argument("--n", type=int, help="features per set (default 10,000; quick 2,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="default results/metrics_speed[-quick].json")
    args = common.parse_args(parser, PRESETS)
    budget = common.budget(args, PRESETS[args.preset])
    args.out = args.out or common.default_out("metrics_speed", args.preset)

    n, repeats = budget["n"], budget["repeats"]
    real, fake = make_features(n, args.seed)
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    values: dict[str, dict[str, float]] = {}
    for run in range(repeats):
        for side, function in (("ours", ours), ("theirs", theirs)):
            seconds, values[side] = timed(function, real, fake)
            times[side].append(seconds)
            print(f"run {run + 1}/{repeats} {side:6s} {seconds:8.2f} s", flush=True)

    median = {side: statistics.median(ts) for side, ts in times.items()}
    result = {
        "benchmark": "metrics_speed",
        "what": "FID + precision/recall (k=3) + density/coverage (k=5) vs pytorch-fid + prdc (k=5)",
        "command": common.command_line(),
        "preset": args.preset,
        "n_real": n,
        "n_fake": n,
        "dim": DIM,
        "dtype": "float32",
        "seed": args.seed,
        "repeats": repeats,
        "seconds": times,
        "median_seconds": median,
        "ratio_ours_over_theirs": median["ours"] / median["theirs"],
        "values": values,
        # Same definitions on both sides: FID and density/coverage (k=5) are comparable.
        "agreement": {
            "fid_relative_difference": abs(values["ours"]["fid"] - values["theirs"]["fid"])
            / abs(values["theirs"]["fid"]),
            "density_difference": values["ours"]["density"] - values["theirs"]["density"],
            "coverage_difference": values["ours"]["coverage"] - values["theirs"]["coverage"],
        },
        "agreement_note": (
            "prdc rounds its distances to float32 for float32 features, so comparisons within "
            "~1e-7 relative of a radius can differ; ours decides those on exact distances and "
            "equals prdc run on float64 copies of the same features."
        ),
        **common.provenance(),
    }
    common.save(args.out, result)
    print(
        f"median: ours {median['ours']:.2f} s, theirs {median['theirs']:.2f} s, "
        f"ratio {result['ratio_ours_over_theirs']:.3f} -> {args.out}"
    )


if __name__ == "__main__":
    main()
