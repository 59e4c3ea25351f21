"""Does the leading indicator predict the classifier? Δcov measured on the classifier claim's
own GANs and splits, rank-correlated with the classifier's paired minority-recall change.

For each replicate of a ``classifier_grid`` result whose work dirs were kept (``--keep``),
and each of its two minority digits that the promoted model served:

* the replicate's split is rebuilt (``classifier_grid.replicate_split``, its split seed);
* R is the digit's VALIDATION images (``n_val``, 100 in the committed runs, against
  complementarity's 300: the coverage radii are wider, the scale is the same);
* the evaluation network (``complementarity.EvalNet``) is trained class-balanced without
  augmentation on images disjoint from R, the test images and the minority digits' training
  images: every image the split left unused, and the big digits' training images;
* A, A', the anchors (300 of the split's oracle images, copies, ±1 px morphology) as in
  ``complementarity.measure_class``; G is 300 samples of the promoted model exactly as
  ``augment`` and ``BalancedDataset`` draw them (per-sample stream, selection on), resized to
  28 px as augment writes them;
* Δcov = cov(R; A ∪ G) - cov(R; A ∪ A'), beside the classifier's per-class recall changes
  augment-gan - A' and augment-gan - (c+) (validation and test, the result's averaged seeds).

Reported: Spearman's rank correlation of Δcov with each change over all (replicate, digit)
pairs, a 95 % bootstrap interval (pairs resampled), and the pairs themselves. A digit the
model did not serve got no images, so it has no Δcov and is listed as skipped.

Run: ``python -m benchmarks.indicator_check --result benchmarks/results/classifier_grid-5-3seeds.json
--keep /tmp/cg/w0 /tmp/cg/w4`` (the dirs ``classifier_grid --keep`` trained the GANs in).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .common import DEFAULT_MNIST, Clock, command_line, parse_args, provenance, save, shown_path
from .mnist import load_mnist

PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(n_a=60, n_extra=30, redraws=2, eval_steps=60, bootstrap=200),
    "full": dict(n_a=1200, n_extra=300, redraws=5, eval_steps=1500, bootstrap=2000),
}  # fmt: skip
SIDE = 28


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties given their mean rank."""
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):
        tied = x == v
        r[tied] = r[tied].mean()
    return r


def spearman(x, y) -> float | None:
    """Spearman's rho (Pearson's r of the ranks); None where either side is constant."""
    rx, ry = ranks(np.asarray(x, float)), ranks(np.asarray(y, float))
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def correlation(x: list[float], y: list[float], n_boot: int, seed: int = 0) -> dict[str, Any]:
    """rho, a 95 % percentile bootstrap interval over the pairs, and n."""
    rho = spearman(x, y)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        pick = rng.integers(len(x), size=len(x))
        b = spearman(np.asarray(x)[pick], np.asarray(y)[pick])
        if b is not None:
            boots.append(b)
    ci = [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))] if boots else None
    return {"rho": rho, "ci95": ci, "n": len(x)}


def model_dir_of(keep: list[Path], i: int) -> Path | None:
    """The promoted model dir of replicate ``i`` in one of the kept work dirs (None: none promoted)."""
    for k in keep:
        promoted = k / f"rep{i}" / "models" / f"rep{i}" / "PROMOTED"
        if promoted.is_file():
            return promoted.parent / promoted.read_text().strip()
    return None


def served_samples(model_dir: Path, cls: int, n: int, seed: int) -> np.ndarray:
    """``n`` uint8 (28, 28) samples of class ``cls`` as augment draws them (per-sample stream,
    selection on), resized to 28 px (LANCZOS)."""
    from PIL import Image

    from augment_gan.runtime.generator import OnnxGenerator

    gen = OnnxGenerator.load(model_dir, intra_op_threads=1)
    x = gen.samples(gen.class_index(str(cls)), seed, range(n))[..., 0]
    if x.shape[1] == SIDE:
        return x
    return np.stack([np.asarray(Image.fromarray(im).resize((SIDE, SIDE), Image.Resampling.LANCZOS)) for im in x])


def recall_change(rep: dict[str, Any], arm: str, base: str, part: str, d: int) -> float:
    return rep["arms"][arm][part]["recall_per_class"][d] - rep["arms"][base][part]["recall_per_class"][d]


def run_replicate(rep: dict[str, Any], budgets: dict[str, Any], images, labels, p, keep, clock) -> list[dict]:
    from . import classifier_grid as cg
    from . import complementarity as cm

    i = rep["replicate"]
    split = cg.replicate_split(labels, rep["split_seed"], budgets)
    assert split["minority"] == rep["minority"], "the split differs from the result's: the code changed"
    used = np.concatenate(
        [np.asarray(split[part][d], int) for part in split if part != "minority" for d in split[part]]
    )
    unused = np.setdiff1d(np.arange(len(labels)), used)
    big_train = np.concatenate([split["train"][d] for d in range(10) if d not in split["minority"]])
    eval_idx = np.concatenate([unused, big_train]).astype(int)
    net = cm.EvalNet(images[eval_idx], labels[eval_idx], p["eval_steps"], seed=rep["split_seed"])
    model_dir = model_dir_of(keep, i)
    rows = []
    for d in split["minority"]:
        row: dict[str, Any] = {"replicate": i, "digit": d}
        row["synthetic"] = rep.get("synthetic_counts", {}).get(str(d), 0)
        for arm in ("a_prime", "c_plus"):
            for part in ("val", "test"):
                row[f"gan - {arm} ({part})"] = recall_change(rep, "gan", arm, part, d)
        if model_dir is None or not row["synthetic"]:
            rows.append({**row, "skipped": "the model did not serve the digit"})
            continue
        train = images[split["train"][d]]
        base = cm.measure_class(
            net,
            d,
            train,
            images[split["val"][d]],
            images[split["oracle"][d][: p["n_extra"]]],
            {**p, "n_r": len(split["val"][d])},
            seed=rep["split_seed"] * 10 + d,
        )
        samples = served_samples(model_dir, d, p["n_extra"], seed=rep["split_seed"] * 100 + d)
        m = cm.measure_generator(net, base, samples, train)
        row.update(
            delta_cov=m["delta_cov"],
            coverage=m["coverage"],
            copy_rate=m["copy_rate"],
            anchors=base["record"]["anchors"],
            cov_A=base["record"]["cov_A"],
        )
        clock.log(
            f"replicate {i} digit {d}: Δcov {m['delta_cov']:+.3f}; gan - A' (test) {row['gan - a_prime (test)']:+.3f}"
        )
        rows.append(row)
    return rows


def summarise(rows: list[dict], n_boot: int) -> dict[str, Any]:
    measured = [r for r in rows if "delta_cov" in r]
    x = [r["delta_cov"] for r in measured]
    keys = [k for k in measured[0] if k.startswith("gan - ")] if measured else []
    return {
        "n_pairs": len(measured),
        "n_skipped": len(rows) - len(measured),
        "delta_cov_mean": float(np.mean(x)) if x else None,
        "spearman": {k: correlation(x, [r[k] for r in measured], n_boot) for k in keys},
    }


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--result", type=Path, required=True, help="a classifier_grid result")
    parser.add_argument("--keep", type=Path, nargs="+", required=True, help="the work dirs its GANs were trained in")
    parser.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    parser.add_argument("--out", type=Path, default=None)
    args = parse_args(parser, PRESETS, default="full")
    p = PRESETS[args.preset]
    source = json.loads(args.result.read_text())
    images, labels = load_mnist(args.mnist)
    clock = Clock()
    rows = []
    for rep in source["replicates"]:
        rows += run_replicate(rep, source["budgets"], images, labels, p, args.keep, clock)
    result = {
        "benchmark": "indicator_check",
        "command": command_line(),
        "preset": args.preset,
        "budget": p,
        "source": shown_path(args.result),
        "n_minor": source["budgets"]["n_minor"],
        **provenance(),
        "pairs": rows,
        "summary": summarise(rows, p["bootstrap"]),
        "seconds": round(clock.elapsed(), 1),
    }
    for k, c in result["summary"]["spearman"].items():
        clock.log(f"Spearman(Δcov, {k}) = {c['rho']} {c['ci95']} (n={c['n']})")
    out = args.out or Path("benchmarks/results") / f"indicator_check-{result['n_minor']}.json"
    save(out, result)


if __name__ == "__main__":
    main()
