"""Strategies compared over seeds: summaries, paired differences with 95 % intervals, the
strongest classic recipe (c+) picked on validation, and the gate beside what samples do.

Paired: seed k of every strategy starts from the same classifier weights and sampler seed,
so the per-seed differences cancel what the seed alone does. The interval is the library's
one paired t interval (``augment_gan.evaluation.utility.paired``); a difference whose
interval contains 0 is a tie.
"""

from __future__ import annotations

import statistics
from typing import Any

METRICS = ("macro_f1", "balanced_accuracy", "minority_recall")


def paired_difference(candidate: list[float], baseline: list[float]) -> dict[str, Any]:
    """Mean of the per-seed differences candidate - baseline, its 95 % t interval (``ci95``),
    ``n`` and ``significant`` (the interval excludes 0)."""
    from augment_gan.evaluation.utility import paired

    if len(candidate) != len(baseline):
        raise ValueError(f"pair runs of the same seeds: {len(candidate)} vs {len(baseline)} values")
    return paired([a - b for a, b in zip(candidate, baseline)])


def effect(diff: dict[str, Any]) -> str:
    """helps / hurts (the interval excludes 0) or tie."""
    return "tie" if not diff["significant"] else ("helps" if diff["mean"] > 0 else "hurts")


def summarise(runs: list[dict], part: str) -> dict[str, dict]:
    """Mean, std and the per-seed values of each metric on ``part`` (val or test)."""
    out = {}
    for m in METRICS:
        vals = [r[part][m] for r in runs]
        out[m] = {
            "mean": statistics.fmean(vals),
            "std": statistics.stdev(vals) if len(vals) > 1 else None,
            "values": [round(v, 4) for v in vals],
        }
    return out


def paired_table(
    runs: dict[str, list[dict]], candidates: list[str], baselines: tuple[str, ...], part: str = "test"
) -> dict[str, dict[str, dict]]:
    """candidate -> baseline -> metric -> the paired difference on ``part``."""
    return {
        cand: {
            base: {
                m: paired_difference([r[part][m] for r in runs[cand]], [r[part][m] for r in runs[base]])
                for m in METRICS
            }
            for base in baselines
        }
        for cand in candidates
    }


def pick_c_plus(runs: dict[str, list[dict]], candidates) -> str:
    """(c+): the classic candidate with the best mean VALIDATION macro-F1 (never test)."""
    return max(
        [k for k in candidates if runs.get(k)], key=lambda k: statistics.fmean(r["val"]["macro_f1"] for r in runs[k])
    )


def agreement(
    gate: dict[str, dict], runs: dict[str, list[dict]], classes: list[str], class_idx: dict[str, int], candidates
) -> dict[str, Any]:
    """The gate's verdict per small class beside what its samples measurably do: the paired
    test-recall change of that class under the first of ``candidates`` that ran every seed of
    the baseline (``candidates[i]`` = (strategy, baseline)). ``effect``: helps / hurts / tie.
    The counts are the gate's confusion: a class that helps should pass, one that hurts
    should fail."""
    pick = next(((c, b) for c, b in candidates if len(runs.get(c, [])) == len(runs.get(b, [])) > 0), None)
    if pick is None:
        return {"candidate": None}
    candidate, baseline = pick
    rows, counts = {}, {}
    for name in classes:
        i = class_idx[name]
        diff = paired_difference(
            [r["test"]["recall_per_class"][i] for r in runs[candidate]],
            [r["test"]["recall_per_class"][i] for r in runs[baseline]],
        )
        verdict = "pass" if gate[name]["passed"] else "fail"
        rows[name] = {"gate": verdict, "reasons": gate[name]["reasons"], "recall_change": diff, "effect": effect(diff)}
        counts[f"{verdict}/{effect(diff)}"] = counts.get(f"{verdict}/{effect(diff)}", 0) + 1
    return {"candidate": candidate, "baseline": baseline, "classes": rows, "counts": counts}


def fmt(s: dict) -> str:
    """mean ± std (or the mean alone, for one seed)."""
    return f"{s['mean']:.4f} ± {s['std']:.4f}" if s["std"] is not None else f"{s['mean']:.4f}"


def diff_cells(diffs: dict) -> str:
    """One paired comparison per metric: mean [95 % CI], starred when the interval excludes 0."""
    cells = []
    for m in METRICS:
        d = diffs[m]
        ci = "" if d["ci95"] is None else f" [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
        cells.append(f"{m} {d['mean']:+.4f}{ci}{'*' if d['significant'] else ''}")
    return ", ".join(cells)
