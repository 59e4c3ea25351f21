"""The classifier claim, replicated: does augment-gan's default recipe, on top of the strongest
classic recipe, raise minority recall beyond what the same recipe gets from more classic draws?

A replicate is one split seed, GAN seed and classifier seed: each draws its own two minority
digits of MNIST t10k (``n_minor`` training images each, ``n_major`` for the other eight),
``n_val`` validation and ``n_test`` test images per digit, and an oracle folder in which the
two minority digits have ``n_major`` real training images too. Per replicate:

1. **The GAN**, exactly the library's defaults (or ``--generator NAME``, a candidate of
   ``complementarity.GENERATORS``), trained, evaluated (at half and at the full budget),
   gated, utility-checked and promoted by the pipeline (``gan.py``).
2. **(c+) from one grid** (``GRID``), picked on this replicate's VALIDATION macro-F1: sampling
   balanced with cross entropy, natural with the logit-adjusted loss, or natural with LDAM-DRW
   (these replace resampling, they do not stack on it) x affine or affine + elastic x a
   last-layer re-fit on class-balanced real images (cRT) or not: 6 trainings, 12 configs.
3. **augment-gan** (``gan``): ``BalancedDataset``'s defaults (synthetic share 0.25, per-sample
   selection, loss weight 1) with the promoted model, on (c+)'s sampling, augmentation, loss
   and re-fit (``--gan-recipe c+``), or on the config of the same 12 that scores best on
   validation with the model (``--gan-recipe grid``: no more configurations than (c+) had).
   A class the model does not serve gets nothing (zero images is allowed; the JSON counts
   what was added).
4. **A'** (``a_prime``): the same recipe, counts and weights, each synthetic sample replaced by
   one of its class's training images through (c+)'s augmentation: what is left of the gain
   after this is the GAN's, not the recipe's.
5. **The oracle**: (c+)'s recipe with the minority digits given ``n_major`` real images: the
   ceiling, so every gain reads as a share of the headroom.

Every arm trains ``clf_steps`` Adam steps at batch 64 (+ ``refit_steps`` when (c+) re-fits)
from the replicate's classifier seed (``--clf-seeds K``: seeds i, 1000 + i, ..., each arm's
scores averaged over them, to lower the classifier's own noise): an arm with more images gets
no more steps, and the arms are paired.
Reported on test: each arm's mean, the paired differences gan - (c+), gan - A', A' - (c+)
and oracle - (c+) with 95 % t intervals over replicates (a difference whose interval holds 0
is a tie), and gan - (c+) as a share of the oracle's headroom. Every choice is made on
validation; the test images are only scored.

Run: ``python -m benchmarks.classifier_grid [--preset quick|full] [--n-minor 5] [--first 0]
[--replicates 8]``; ``--merge A.json B.json --out C.json`` joins runs of disjoint replicates
made with the same budget (two processes, one core each); ``--reuse-gans A.json --keep DIR``
re-runs the classifiers with the GANs an earlier run trained in DIR.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from .classifier import Input, as_tensor, train_clf
from .common import (
    DEFAULT_MNIST,
    Clock,
    budget,
    command_line,
    default_out,
    finish,
    parse_args,
    provenance,
    shown_path,
    work_dir,
    write_json,
)
from .compare import METRICS, paired_table
from .gan import NET, train_gan
from .mnist import load_mnist, write_folder

PRESETS: dict[str, dict[str, Any]] = {
    # a smoke run: the code path end to end, figures meaningless
    "quick": dict(
        replicates=1, n_minor=5, n_major=30, n_val=10, n_test=20, gan_steps=20, clf_steps=20, refit_steps=5,
        eval_samples=30, judge_steps=20, band_draws=10, utility_check={"seeds": 1, "steps": 10}, clf_seeds=1,
    ),
    # the claim: 8 replicates; downstream.py's classifier budget, the library's GAN defaults
    "full": dict(
        replicates=8, n_minor=5, n_major=400, n_val=100, n_test=300, gan_steps=2000, clf_steps=300, refit_steps=100,
        eval_samples=200, judge_steps=None, band_draws=None, utility_check=True, clf_seeds=1,
    ),
}  # fmt: skip
SAMPLING_LOSS = {  # how the imbalance is handled: each replaces resampling, none stacks on it
    "balanced": {"sampling": "balanced", "loss": "ce"},
    "la": {"sampling": "uniform", "loss": "la"},
    "ldam-drw": {"sampling": "uniform", "loss": "ldam-drw"},
}
AUGS = ("affine", "affine+elastic")
GRID = [f"{s}/{a}{r}" for s in SAMPLING_LOSS for a in AUGS for r in ("", "+refit")]  # the 12 configs
USE = {"share": 0.25, "synthetic_weight": 1.0, "select": True}  # BalancedDataset's defaults
ARMS = ("c_plus", "gan", "a_prime", "oracle")
GAN_BUDGET = ("n_minor", "n_major", "n_val", "n_test", "gan_steps", "eval_samples", "judge_steps", "band_draws")
PAIRS = (("gan", "c_plus"), ("gan", "a_prime"), ("a_prime", "c_plus"), ("oracle", "c_plus"))


def recipe(config: str) -> tuple[dict[str, str], bool]:
    """A grid config -> (sampling, aug and loss; whether it re-fits)."""
    sl, rest = config.split("/")
    return {**SAMPLING_LOSS[sl], "aug": rest.removesuffix("+refit")}, rest.endswith("+refit")


# --- the split ----------------------------------------------------------------------------
def replicate_split(labels: np.ndarray, seed: int, p: dict[str, Any]) -> dict[str, Any]:
    """Disjoint per-digit indices: ``train``, ``val``, ``test`` and, for the two minority
    digits this seed draws, ``oracle`` (``n_major - n_minor`` more real training images)."""
    rng = np.random.default_rng(seed)
    minority = sorted(int(d) for d in rng.choice(10, size=2, replace=False))
    split: dict[str, Any] = {"minority": minority, "train": {}, "val": {}, "test": {}, "oracle": {}}
    for d in range(10):
        idx = rng.permutation(np.flatnonzero(labels == d))
        n_train = p["n_minor"] if d in minority else p["n_major"]
        n_oracle = p["n_major"] - p["n_minor"] if d in minority else 0
        cuts = np.cumsum([n_train, p["n_val"], p["n_test"], n_oracle])
        if cuts[-1] > len(idx):
            raise SystemExit(f"digit {d} has {len(idx)} images; the split needs {cuts[-1]}")
        for part, chunk in zip(("train", "val", "test", "oracle"), np.split(idx, cuts)):  # the rest is unused
            split[part][d] = chunk.tolist()
    return split


# --- one replicate ------------------------------------------------------------------------
def averaged(runs: list[dict]) -> dict:
    """train_clf results of several classifier seeds as one: every score the mean over seeds."""
    if len(runs) == 1:
        return runs[0]

    def mean(parts: list[dict]) -> dict:
        return {
            k: ([float(np.mean(col)) for col in zip(*(x[k] for x in parts))] if isinstance(v, list) else
                float(np.mean([x[k] for x in parts])))
            for k, v in parts[0].items()
        }  # fmt: skip

    out = {"val": mean([r["val"] for r in runs]), "test": mean([r["test"] for r in runs])}
    out["seconds"] = sum(r["seconds"] for r in runs)
    if "refit" in runs[0]:
        out["refit"] = {
            "val": mean([r["refit"]["val"] for r in runs]),
            "test": mean([r["refit"]["test"] for r in runs]),
            "seconds": sum(r["refit"]["seconds"] for r in runs),
        }
    return out


def scores(r: dict, refit: bool) -> dict:
    """The val and test scores of a train_clf result, re-fitted or not."""
    src = r["refit"] if refit else r
    return {"val": src["val"], "test": src["test"]}


def train_or_reuse_gan(
    i: int, p: dict[str, Any], train_dir: Path, models: Path, minority, earlier, log, generator: str | None = None
):
    """(the JSON's ``gan`` record, the promoted model dir or None): trained by the pipeline with
    the library's defaults (or, with ``generator``, complementarity's candidate of that name),
    or, with ``earlier`` (this replicate's record in an earlier result whose work dir is kept),
    that run's promoted model."""
    if earlier is not None:
        promoted = models / f"rep{i}" / "PROMOTED"
        model_dir = models / f"rep{i}" / promoted.read_text().strip() if promoted.is_file() else None
        log(f"rep {i}: reusing the GAN of {earlier['source']}: {model_dir}")
        return {**earlier["gan"], "reused_from": earlier["source"]}, model_dir
    from augment_gan.evaluation.utility import UtilityConfig

    from .complementarity import GENERATORS

    recipe = generator or "the library's defaults"
    log(f"rep {i}: minority digits {minority}; training the GAN ({p['gan_steps']} steps, {recipe})")
    utility = p["utility_check"]
    gan, model_dir, _ = train_gan(
        train_dir,
        models,
        f"rep{i}",
        net=NET,
        train=GENERATORS[generator] if generator else {},
        steps=p["gan_steps"],
        seed=i,
        eval_samples=p["eval_samples"],
        judge_steps=p["judge_steps"],
        band_draws=p["band_draws"],
        utility=UtilityConfig(**utility) if isinstance(utility, dict) else utility,
        minority=[str(d) for d in minority],
        log=log,
    )
    keys = ("best_step", "gate", "minority_passed_gate", "minority_promoted", "promoted_classes", "seconds")
    return {k: gan[k] for k in keys}, model_dir


def run_replicate(
    i: int,
    p: dict[str, Any],
    images,
    labels,
    work: Path,
    log,
    *,
    gan_recipe: str = "c+",
    earlier=None,
    generator: str | None = None,
) -> dict[str, Any]:
    """One replicate's record. ``gan_recipe`` "c+": augment-gan on (c+)'s config; "grid": on the
    config its own grid (the same 12) scores best on validation. ``earlier``: reuse that
    replicate's GAN (:func:`train_or_reuse_gan`)."""
    from .downstream import synthetic_plan

    split = replicate_split(labels, 3000 + i, p)
    minority = split["minority"]
    inp = Input(
        tuple(str(d) for d in range(10)), tuple(str(d) for d in minority), 1, image_size=28, clf_size=28, clf_width=32
    )
    rep = work / f"rep{i}"
    folders = {"train": rep / "train", "oracle": rep / "oracle"}
    for name, parts in (
        ("train", split["train"]),
        ("oracle", {d: split["train"][d] + split["oracle"][d] for d in range(10)}),
    ):
        if not folders[name].is_dir():  # a reused work dir already holds them
            write_folder(folders[name], images, parts)
    val = as_tensor(inp, {d: images[split["val"][d]] for d in range(10)})
    test = as_tensor(inp, {d: images[split["test"][d]] for d in range(10)})
    out: dict[str, Any] = {"replicate": i, "split_seed": 3000 + i, "gan_seed": i, "classifier_seed": i}
    out["minority"] = minority
    out["gan"], model_dir = train_or_reuse_gan(
        i, p, folders["train"], rep / "models", minority, earlier, log, generator
    )

    def clf(strategy: dict, refit: bool, arm_folders=folders) -> dict:
        """train_clf over the replicate's classifier seeds (i, then 1000 + i, ...), averaged."""
        runs = [
            train_clf(inp, strategy, arm_folders, p["clf_steps"], 1000 * k + i, val, test, p["refit_steps"] * refit)
            for k in range(p.get("clf_seeds", 1))
        ]
        return averaged(runs)

    def grid_of(extra: dict, tag: str) -> dict[str, dict]:
        """Every config of the grid with ``extra`` (a model, for augment-gan) on top."""
        grid: dict[str, dict] = {}
        for sl in SAMPLING_LOSS:
            for aug in AUGS:
                config = f"{sl}/{aug}"
                r = clf({**recipe(config)[0], **extra}, refit=True)
                grid[config], grid[config + "+refit"] = scores(r, False), scores(r, True)
                log(
                    f"  rep {i} {tag} {config:24s} val macro-F1 {r['val']['macro_f1']:.4f} / re-fit "
                    f"{r['refit']['val']['macro_f1']:.4f}  ({r['seconds'] + r['refit']['seconds']:.0f}s)"
                )
        return grid

    def best(grid: dict[str, dict]) -> str:
        return max(GRID, key=lambda k: grid[k]["val"]["macro_f1"])

    grid = grid_of({}, "classic")
    c_plus = best(grid)
    out["grid"], out["c_plus"] = grid, c_plus
    arms = {"c_plus": grid[c_plus]}

    # augment-gan (on (c+)'s config, or on its own grid's best) and its A' arm, then the oracle
    counts, skipped = synthetic_plan(folders["train"], model_dir) if model_dir else ({}, {"*": "nothing promoted"})
    out["synthetic_counts"], out["skipped_classes"] = counts, skipped
    model = {"model": model_dir, **USE}
    if not counts:  # the model adds no image: both arms are (c+) itself
        gan_config = c_plus
        arms["gan"] = arms["a_prime"] = grid[c_plus]
    elif gan_recipe == "grid":
        out["gan_grid"] = gan_grid = grid_of(model, "augment-gan")
        gan_config = best(gan_grid)
        arms["gan"] = gan_grid[gan_config]
    else:
        gan_config = c_plus
        arms["gan"] = scores(clf({**recipe(c_plus)[0], **model}, recipe(c_plus)[1]), recipe(c_plus)[1])
    if counts:
        base, refit = recipe(gan_config)
        arms["a_prime"] = scores(clf({**base, **model, "stand_in": True}, refit), refit)
    out["gan_config"] = gan_config
    base, refit = recipe(c_plus)
    arms["oracle"] = scores(clf(dict(base), refit, {"train": folders["oracle"]}), refit)
    out["arms"] = arms
    log(
        f"rep {i}: (c+) = {c_plus}, augment-gan on {gan_config}; synthetic {counts or 'none'}; test minority recall "
        + ", ".join(f"{a} {arms[a]['test']['minority_recall']:.4f}" for a in ARMS)
    )
    return out


# --- over replicates ----------------------------------------------------------------------
def summarise(result: dict[str, Any]) -> None:
    """result["summary"]: each arm's test means, the paired differences and the headroom share;
    result["grid_on_validation"]: each config's mean validation macro-F1 and how often it was (c+)."""
    reps = result["replicates"]
    if not reps:
        return
    runs = {arm: [r["arms"][arm] for r in reps] for arm in ARMS}
    means = {arm: {m: statistics.fmean(x["test"][m] for x in runs[arm]) for m in METRICS} for arm in ARMS}
    diffs = {f"{a} - {b}": paired_table(runs, [a], (b,))[a][b] for a, b in PAIRS} if len(reps) > 1 else {}
    share = {}
    for m in METRICS:
        headroom = means["oracle"][m] - means["c_plus"][m]
        d = diffs.get("gan - c_plus", {}).get(m)
        share[m] = (
            None
            if d is None or d["ci95"] is None or headroom <= 0
            else {"mean": d["mean"] / headroom, "ci95": [d["ci95"][0] / headroom, d["ci95"][1] / headroom]}
        )
    result["summary"] = {
        "n_replicates": len(reps),
        "test_means": means,
        "paired": diffs,
        "share_of_headroom": share,
        "synthetic_images_added": [sum(r["synthetic_counts"].values()) for r in reps],
        "minority_promoted": [r["gan"]["minority_promoted"] for r in reps],
    }
    result["grid_on_validation"] = {
        k: {
            "val_macro_f1": statistics.fmean(r["grid"][k]["val"]["macro_f1"] for r in reps),
            "picked": sum(r["c_plus"] == k for r in reps),
        }
        for k in GRID
    }


def versus(result: dict[str, Any], other_path: Path) -> dict[str, Any]:
    """A candidate against another GAN: this result's gan arm minus ``other_path``'s, paired
    over the replicates both ran (the same splits, minority digits and classifier seeds:
    refused otherwise, and for other budgets), with each one's gan - A' beside it."""
    other = json.loads(Path(other_path).read_text())

    def budgets(r: dict[str, Any]) -> dict[str, Any]:  # results from before --clf-seeds used one
        return {"clf_seeds": 1, **r["budgets"], "replicates": 0}

    if budgets(other) != budgets(result):
        raise SystemExit(f"{other_path} was measured with other budgets: {other['budgets']}")
    theirs = {r["replicate"]: r for r in other["replicates"]}
    both = [(r, theirs[r["replicate"]]) for r in result["replicates"] if r["replicate"] in theirs]
    for r, o in both:
        if any(r[k] != o[k] for k in ("split_seed", "classifier_seed", "minority")):
            raise SystemExit(f"replicate {r['replicate']} is another split in {other_path}")
    runs = {
        "gan": [r["arms"]["gan"] for r, _ in both],
        "other": [o["arms"]["gan"] for _, o in both],
        "a_prime": [r["arms"]["a_prime"] for r, _ in both],
        "other_a_prime": [o["arms"]["a_prime"] for _, o in both],
    }
    return {
        "file": shown_path(Path(other_path)),
        "generator": other.get("generator"),
        "replicates": [r["replicate"] for r, _ in both],
        "gan - other gan": paired_table(runs, ["gan"], ("other",))["gan"]["other"],
        "gan - a_prime": paired_table(runs, ["gan"], ("a_prime",))["gan"]["a_prime"],
        "other gan - other a_prime": paired_table(runs, ["other"], ("other_a_prime",))["other"]["other_a_prime"],
    }


def print_summary(result: dict[str, Any]) -> None:
    s = result.get("summary")
    if not s:
        return
    print(f"\n== {s['n_replicates']} replicate(s), {result['budgets']['n_minor']} minority images; test means:")
    for arm, m in s["test_means"].items():
        print(f"  {arm:8s} " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()))
    for pair, d in s["paired"].items():
        cells = [
            f"{m} {d[m]['mean']:+.4f} [{d[m]['ci95'][0]:+.4f}, {d[m]['ci95'][1]:+.4f}]" if d[m]["ci95"] else m
            for m in METRICS
        ]
        print(f"  {pair:18s} " + ", ".join(cells))
    r = s["share_of_headroom"]["minority_recall"]
    if r:
        print(f"  gan - c_plus as a share of the oracle's headroom (minority recall): {r['mean']:.2f} {r['ci95']}")
    if "versus" in result:
        v = result["versus"]
        for pair in ("gan - other gan", "gan - a_prime", "other gan - other a_prime"):
            d = v[pair]["minority_recall"]
            print(f"  {pair} ({v['file']}): minority recall {d['mean']:+.4f} {d['ci95']}")


def merge(files: list[Path]) -> dict[str, Any]:
    """Runs of disjoint replicates with the same budgets, as one result."""
    parts = [json.loads(Path(f).read_text()) for f in files]

    def made_with(p: dict[str, Any]) -> tuple:  # what must agree; how many replicates each ran need not
        return ({k: v for k, v in p["budgets"].items() if k != "replicates"}, p.get("gan_recipe"), p.get("generator"))

    if any(made_with(p) != made_with(parts[0]) for p in parts):
        raise SystemExit("merge runs made with the same budgets, gan_recipe, generator")
    reps = sorted((r for p in parts for r in p["replicates"]), key=lambda r: r["replicate"])
    if len({r["replicate"] for r in reps}) != len(reps):
        raise SystemExit("the runs share replicates; merge disjoint ones")
    result = {
        **parts[0],
        "command": command_line(),
        "merged_from": [c for p in parts for c in p.get("merged_from", [p["command"]])],
    }
    result["replicates"] = reps
    result["budgets"] = {**parts[0]["budgets"], "replicates": len(reps)}
    summarise(result)
    return result


def main() -> None:
    from .complementarity import GENERATORS, IMAGE_CONDITIONED, SAMPLED_FROM

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist", type=Path, default=DEFAULT_MNIST)
    p.add_argument("--replicates", type=int)
    p.add_argument("--first", type=int, default=0, help="the first replicate's index")
    p.add_argument("--n-minor", type=int)
    p.add_argument("--gan-steps", type=int)
    p.add_argument("--clf-steps", type=int)
    p.add_argument("--clf-seeds", type=int, help="classifier seeds per replicate, each arm's scores averaged over them")
    p.add_argument("--out", type=Path)
    p.add_argument("--keep", type=Path, help="work in this dir and keep it (default: a temp dir)")
    p.add_argument("--merge", type=Path, nargs="+", help="join these result files into --out")
    p.add_argument(
        "--gan-recipe",
        choices=("c+", "grid"),
        default="c+",
        help="augment-gan on (c+)'s config, or on the best of its own grid on validation",
    )
    p.add_argument(
        "--generator",
        choices=[g for g in GENERATORS if g not in IMAGE_CONDITIONED and g not in SAMPLED_FROM],
        help="train the GAN as this candidate of benchmarks/complementarity.py's GENERATORS (default: the library's defaults)",
    )
    p.add_argument(
        "--reuse-gans",
        type=Path,
        nargs="+",
        help="earlier results whose work dir is --keep: reuse their replicates' GANs instead of training",
    )
    p.add_argument(
        "--versus",
        type=Path,
        help="an earlier result (another GAN, the same budgets): report this gan arm minus its gan arm, "
        "paired over the replicates both ran",
    )
    a = parse_args(p, PRESETS)
    if a.merge:
        if not a.out:
            raise SystemExit("--merge needs --out")
        result = merge(a.merge)
        if a.versus:
            result["versus"] = versus(result, a.versus)
        write_json(a.out, result)
        print_summary(result)
        return
    b = budget(a, PRESETS[a.preset])
    out_path = a.out or default_out(f"classifier_grid-{b['n_minor']}", a.preset)
    clock = Clock()
    images, labels = load_mnist(a.mnist)
    result: dict[str, Any] = {
        "benchmark": "classifier_grid",
        "preset": a.preset,
        "quick": a.quick,
        "command": command_line(),
        "budgets": b,
        "grid": GRID,
        "use": USE,
        "gan_recipe": a.gan_recipe,
        "generator": a.generator,
        "replicates": [],
        **provenance(),
    }
    earlier = {}
    for f in a.reuse_gans or ():
        prior = json.loads(Path(f).read_text())
        if any(prior["budgets"][k] != b[k] for k in GAN_BUDGET):
            raise SystemExit(
                f"{f} trained its GANs with other budgets: {[(k, prior['budgets'][k]) for k in GAN_BUDGET]}"
            )
        earlier.update({r["replicate"]: {"gan": r["gan"], "source": str(f)} for r in prior["replicates"]})
    if a.reuse_gans and not a.keep:
        raise SystemExit("--reuse-gans needs --keep, the work dir the GANs were trained in")
    with work_dir(a.keep, "classifier-grid-") as work:
        for i in range(a.first, a.first + b["replicates"]):
            if a.reuse_gans and i not in earlier:
                raise SystemExit(f"replicate {i} is in none of {a.reuse_gans}")
            result["replicates"].append(
                run_replicate(
                    i,
                    b,
                    images,
                    labels,
                    work,
                    clock.log,
                    gan_recipe=a.gan_recipe,
                    earlier=earlier.get(i),
                    generator=a.generator,
                )
            )
            summarise(result)
            if a.versus and len(result["replicates"]) > 1:
                result["versus"] = versus(result, a.versus)
            finish(result)
            write_json(out_path, result)  # after every replicate: a killed run keeps what it finished
    print_summary(result)
    print(f"wrote {out_path} ({clock.elapsed():.0f}s)")


if __name__ == "__main__":
    main()
