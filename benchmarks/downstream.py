"""Downstream: does augment-gan help a classifier more than classic augmentation?

One runner for every dataset (``--data mnist|digits|rgb``, described in ``datasets.py``):
the train split is written as a PNG folder in a temp dir; a class-conditional GAN
(``--gan``, a key of ``GANS``) is trained on it, evaluated, gated and promoted by the
toolkit's own pipeline (``gan.py``: the JSON's ``gate`` is the gate's checks alone,
``utility_check`` promote's utility check, ``promoted_classes`` what the model serves). If a
minority class is not promoted, the last step is also promoted with every check off and
the synthetic strategies run with that model too, marked ``*`` ("gate bypassed").

The same small CNN (``classifier.py``) is then trained with the same budget and several
paired seeds on each classic recipe of the dataset (``RECIPES``; c, oversampling + affine,
is the bar), and (c+), the recipe with the best VALIDATION macro-F1, is picked. Then every
augment-gan use (``USES``) runs with every model: ``augment`` files (``e``, ``g``: a recipe
of their own), or ``BalancedDataset`` on top of (c) and of (c+) (``f25@c`` ...). Reported
on the real test split: macro-F1, balanced accuracy and minority recall, mean +- std over
seeds, and every augment-gan strategy's paired difference to (c) and (c+) with its 95 %
interval (``compare.py``); ``selection_effect`` (f25 - f25ns), ``gate_agreement`` (the
promoted decision per small class beside the recall change its samples cause under f25 on (c)).

Adding a GAN variant is one entry in ``GANS``, a strategy one entry in ``RECIPES`` or ``USES``.

    python -m benchmarks.downstream --data mnist [--preset quick|full] [--gan default] [--seeds 5]
        [--recipes c,la] [--uses f25,f25ns] [--size n_minor=5] [--out FILE] [--keep DIR]

JSON: ``benchmarks/results/downstream-<data>.json`` (``-quick`` with ``--quick``), written after
every seed, so a killed run keeps its partial results.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from . import common
from .classifier import as_tensor, train_clf
from .compare import agreement, diff_cells, fmt, paired_table, pick_c_plus, summarise
from .datasets import DATASETS
from .gan import NET, train_gan
from .grids import model_grid

# --- the experiments, as data --------------------------------------------------------------
GANS: dict[str, dict[str, Any]] = {  # net: NetConfig fields; train: TrainConfig fields beside the budget
    "default": {"net": NET, "train": {}},
    "diffaugment": {"net": NET, "train": {"diffaugment": "color,translation,cutout"}},
}
BASELINE = "c"  # the bar
RECIPES: dict[str, dict[str, str]] = {  # classic recipes, no GAN
    "a": {"label": "real only, uniform", "sampling": "uniform", "aug": "none", "loss": "ce"},
    "b": {"label": "real, oversampled (class-balanced)", "sampling": "balanced", "aug": "none", "loss": "ce"},
    "c": {"label": "real, oversampled + affine", "sampling": "balanced", "aug": "affine", "loss": "ce"},
    "c-elastic": {
        "label": "real, oversampled + affine + elastic",
        "sampling": "balanced",
        "aug": "affine+elastic",
        "loss": "ce",
    },
    "c-trivial": {
        "label": "real, oversampled + h-flip + TrivialAugmentWide",
        "sampling": "balanced",
        "aug": "flip+trivial",
        "loss": "ce",
    },
    "la": {
        "label": "real, uniform + affine, logit-adjusted loss",
        "sampling": "uniform",
        "aug": "affine",
        "loss": "la",
    },
    "la-elastic": {
        "label": "real, uniform + affine + elastic, logit-adjusted loss",
        "sampling": "uniform",
        "aug": "affine+elastic",
        "loss": "la",
    },
}
# augment-gan uses. With "files": the folder `augment` writes (augment_folder options), trained
# with the use's own recipe; otherwise BalancedDataset (share, synthetic loss weight,
# per-sample selection) on top of (c) and of (c+), with their sampling, augmentation and loss.
USES: dict[str, dict[str, Any]] = {
    "e": {
        "label": "augment files to the top (target max), uniform + affine",
        "files": {"target": "max", "max_share": 1},  # 1: no cap (augment's default caps at 0.25 since issue 25)
        "recipe": {"sampling": "uniform", "aug": "affine", "loss": "ce"},
    },
    "g": {
        "label": "augment files capped at share 0.5, oversampled + affine",
        "files": {"target": "max", "max_share": 0.5},
        "recipe": {"sampling": "balanced", "aug": "affine", "loss": "ce"},
    },
    "f25": {"share": 0.25, "synthetic_weight": 1.0, "select": True},  # BalancedDataset's defaults
    "f50": {"share": 0.5, "synthetic_weight": 1.0, "select": True},
    "f25w": {"share": 0.25, "synthetic_weight": 0.5, "select": True},
    "f50w": {"share": 0.5, "synthetic_weight": 0.5, "select": True},
    "f25ns": {"share": 0.25, "synthetic_weight": 1.0, "select": False},  # f25 with per-sample selection off
}
DEFAULT_USE = "f25"  # what BalancedDataset's defaults do: gate_agreement measures it
# budgets: judge_steps, band_draws None = the library's; utility_check True = the library's default
FULL = {
    "seeds": 5,
    "clf_steps": 300,
    "eval_samples": 200,
    "judge_steps": None,
    "band_draws": None,
    "utility_check": True,
}
QUICK = {  # smoke runs, a few minutes each: the figures mean nothing
    "seeds": 2,
    "eval_samples": 50,
    "judge_steps": 50,
    "band_draws": 20,
    "utility_check": {"seeds": 2, "steps": 20},
}
SMALL_USES = ("f25", "f50w")
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "full": {
        "mnist": {
            **FULL,
            "gan_steps": 1200,
            "sizes": {"n_major": 400, "n_minor": 15, "n_val": 100, "n_test": 300},
            "recipes": DATASETS["mnist"].classic,
            "uses": ("e", "g", "f25", "f50", "f25w", "f50w", "f25ns"),
        },
        "digits": {
            **FULL,
            "gan_steps": 1200,
            "sizes": {"n_val": 30, "n_test": 50},
            "recipes": DATASETS["digits"].classic,
            "uses": SMALL_USES,
        },
        "rgb": {
            **FULL,
            "gan_steps": 800,
            "sizes": {"train_major": 300, "train_minor": 15, "val": 60, "test": 150},
            "recipes": DATASETS["rgb"].classic,
            "uses": SMALL_USES,
        },
    },
    "quick": {
        "mnist": {
            **QUICK,
            "gan_steps": 150,
            "clf_steps": 150,
            "eval_samples": 100,
            "judge_steps": 100,
            "sizes": {"n_major": 400, "n_minor": 15, "n_val": 50, "n_test": 100},
            "recipes": ("a", "c", "c-elastic", "la"),
            "uses": ("e", "g", "f25", "f25w"),
        },
        "digits": {
            **QUICK,
            "gan_steps": 40,
            "clf_steps": 60,
            "sizes": {"n_val": 30, "n_test": 50},
            "recipes": DATASETS["digits"].classic,
            "uses": SMALL_USES,
        },
        "rgb": {
            **QUICK,
            "gan_steps": 40,
            "clf_steps": 60,
            "sizes": {"train_major": 80, "train_minor": 15, "val": 20, "test": 40},
            "recipes": DATASETS["rgb"].classic,
            "uses": SMALL_USES,
        },
    },
}


# --- strategies ---------------------------------------------------------------------------
def classic_strategies(recipes) -> dict[str, dict]:
    return {k: {**RECIPES[k], "augment_gan": False} for k in recipes}


def gan_strategies(uses, models: list[tuple[str, Path, str]], c_plus: str) -> dict[str, dict]:
    """Every use with every model (tag "" gated, "*" gate bypassed): files uses once (compared
    with (c) and (c+)), BalancedDataset uses on top of (c) and of (c+)."""
    out: dict[str, dict] = {}
    for tag, model, note in models:
        for use in uses:
            spec = USES[use]
            if "files" in spec:
                out[use + tag] = {
                    "label": f"{spec['label']} [{note}]",
                    "folder": use + tag,
                    "model_tag": tag,
                    **spec["recipe"],
                    "augment_gan": True,
                    "base": BASELINE,
                }
                continue
            for base in dict.fromkeys([BASELINE, c_plus]):
                recipe = {k: RECIPES[base][k] for k in ("sampling", "aug", "loss")}
                out[f"{use}{tag}@{base}"] = {
                    "label": (
                        f"BalancedDataset share {spec['share']}, synthetic loss weight {spec['synthetic_weight']}"
                        f"{'' if spec['select'] else ', selection off'}, on ({base}) [{note}]"
                    ),
                    "model": model,
                    "model_tag": tag,
                    **{k: spec[k] for k in ("share", "synthetic_weight", "select")},
                    **recipe,
                    "augment_gan": True,
                    "base": base,
                }
    return out


def synthetic_plan(train_dir: Path, model_dir: Path) -> tuple[dict, dict]:
    """BalancedDataset's synthetic counts and skipped classes for the folder and a model."""
    from torchvision.datasets import ImageFolder

    from augment_gan import BalancedDataset

    ds = BalancedDataset(ImageFolder(str(train_dir)), model_dir, target="max", intra_op_threads=1)
    return dict(ds.synthetic_counts), dict(ds.skipped_classes)


# --- results ------------------------------------------------------------------------------
def tabulate(result: dict, strategies: dict, runs: dict) -> None:
    """result["strategies"], ["best_by_val"], ["paired_vs_baselines"] and ["selection_effect"]
    from the runs so far."""
    table = {}
    for key, s in strategies.items():
        if not runs.get(key):
            continue
        table[key] = {
            "label": s["label"],
            "augment_gan": s["augment_gan"],
            "on_top_of": s.get("base"),
            "model": {"": "gated", "*": "gate bypassed"}.get(s.get("model_tag")),
            "recipe": {k: s.get(k) for k in ("sampling", "aug", "loss", "share", "synthetic_weight", "select")},
            "synthetic_counts": s.get("synthetic_counts"),
            "skipped_classes": s.get("skipped_classes"),
            "test": summarise(runs[key], "test"),
            "val": summarise(runs[key], "val"),
            "mean_seconds": round(statistics.fmean(r["seconds"] for r in runs[key]), 1),
            "minority_share_seen": round(statistics.fmean(r["minority_share_seen"] for r in runs[key]), 4),
            "synthetic_share_seen": round(statistics.fmean(r["synthetic_share_seen"] for r in runs[key]), 4),
            "runs": runs[key],
        }
    result["strategies"] = table
    baselines = tuple(dict.fromkeys([BASELINE, result.get("c_plus", BASELINE)]))
    gan_keys = [k for k in table if table[k]["augment_gan"]]
    best = {}
    for group, tag in (("gated", ""), ("gate_bypassed", "*")):
        keys = [k for k in gan_keys if strategies[k]["model_tag"] == tag]
        if keys:
            best[group] = max(keys, key=lambda k: table[k]["val"]["macro_f1"]["mean"])
    result["best_by_val"] = best
    complete = [k for k in gan_keys if len(runs[k]) == len(runs[BASELINE])]
    result["paired_vs_baselines"] = paired_table(runs, complete, baselines)
    result["selection_effect"] = {  # per-sample selection on vs off, same everything else, seed by seed
        f"{on} - {off}": paired_table(runs, [on], (off,))[on][off]
        for on in complete
        if on.split("@")[0].rstrip("*") == "f25" and (off := on.replace("f25", "f25ns", 1)) in complete
    }


def print_summary(result: dict) -> None:
    b = result["budgets"]
    print()
    print(
        f"== {result['dataset']}: test split ({result['split']['test_per_class']}/class), {b['seeds']} seed(s), "
        f"classifier {b['classifier_steps']} steps, GAN {b['gan_steps']} steps"
    )
    print(f"{'':16s}{'strategy':80s} {'macro-F1':>17s} {'balanced acc':>17s} {'minority recall':>17s}")
    for key, row in result.get("strategies", {}).items():
        t = row["test"]
        print(
            f"{key:16s}{row['label'][:80]:80s} {fmt(t['macro_f1']):>17s} {fmt(t['balanced_accuracy']):>17s} "
            f"{fmt(t['minority_recall']):>17s}"
        )
    if "c_plus" in result:
        print(f"(c+) = {result['c_plus']} (by validation macro-F1)")
    for group, key in result.get("best_by_val", {}).items():
        print(f"best augment-gan [{group}] by val macro-F1 = {key}")
    print("paired test-set differences (mean [95 % CI]; * = the interval excludes 0):")
    pairs = [(c, b, d) for c, by in result.get("paired_vs_baselines", {}).items() for b, d in by.items()]
    pairs += [(*key.split(" - "), d) for key, d in result.get("selection_effect", {}).items()]
    for cand, base, diffs in pairs:
        print(f"  {cand:16s} - {base:10s}: " + diff_cells(diffs))
    agree = result.get("gate_agreement", {})
    for c, row in agree.get("classes", {}).items():
        d = row["recall_change"]
        ci = f" [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]" if d["ci95"] else ""
        print(
            f"promoted decision vs use, class {c}: {row['gate']}; recall {agree['candidate']} - {agree['baseline']} "
            f"{d['mean']:+.4f}{ci}: {row['effect']}"
        )


# --- the run ------------------------------------------------------------------------------
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", choices=sorted(DATASETS), default="mnist")
    p.add_argument("--gan", choices=sorted(GANS), default="default", help="the GAN variant (GANS)")
    p.add_argument("--mnist", type=Path, default=common.DEFAULT_MNIST, help="MNIST t10k folder (--data mnist)")
    p.add_argument("--seeds", type=int, help="classifier seeds")
    p.add_argument("--gan-steps", type=int)
    p.add_argument("--clf-steps", type=int, help="classifier Adam steps at batch 64")
    p.add_argument("--eval-samples", type=int, help="GAN evaluation samples per class")
    p.add_argument("--judge-steps", type=int, help="steps of the evaluation's domain judge")
    p.add_argument("--recipes", type=lambda s: tuple(s.split(",")), help=f"classic recipes, of {','.join(RECIPES)}")
    p.add_argument("--uses", type=lambda s: tuple(s.split(",")), help=f"augment-gan uses, of {','.join(USES)}")
    p.add_argument("--size", action="append", default=[], metavar="KEY=N", help="a split size, e.g. n_minor=5")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--gan-seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--keep", type=Path, default=None, help="work in this dir and keep it (default: a temp dir)")
    a = common.parse_args(p, PRESETS)
    budget = common.budget(a, PRESETS[a.preset][a.data])
    dataset, inp = DATASETS[a.data], DATASETS[a.data].input
    sizes = {**budget["sizes"], **{k: int(v) for k, v in (s.split("=", 1) for s in a.size)}}
    unknown = [k for k in (*budget["recipes"], *budget["uses"]) if k not in RECIPES and k not in USES]
    if unknown or set(sizes) != set(budget["sizes"]):
        raise SystemExit(f"unknown recipes/uses {unknown} or sizes {sorted(set(sizes) - set(budget['sizes']))}")
    out_path = a.out or common.default_out(f"downstream-{a.data}", a.preset)
    clock = common.Clock()
    log = clock.log

    from augment_gan.evaluation.utility import UtilityConfig

    utility = budget["utility_check"]
    utility = UtilityConfig(**utility) if isinstance(utility, dict) else utility
    result: dict[str, Any] = {
        "benchmark": "downstream",
        "dataset": a.data,
        "preset": a.preset,
        "quick": a.quick,
        "command": common.command_line(),
        "classes": list(inp.classes),
        "minority_classes": list(inp.minority),
        "gan_variant": {"name": a.gan, **GANS[a.gan]},
        "budgets": {
            "gan_steps": budget["gan_steps"],
            "classifier_steps": budget["clf_steps"],
            "classifier_batch": 64,
            "classifier": inp.describe(),
            "seeds": budget["seeds"],
            "eval_samples": budget["eval_samples"],
            "judge_steps": budget["judge_steps"] or "the library's",
            "band_draws": budget["band_draws"] or "the library's",
            "utility_check": utility if utility is not True else "the library's default",
        },
        **common.provenance(),
        "timings_s": {},
    }

    def save() -> None:
        common.write_json(out_path, result)

    try:
        with common.work_dir(a.keep, f"downstream-{a.data}-") as work:
            # 1. the split: only the train part is written as a folder
            t0 = time.perf_counter()
            folders = {"train": work / "train"}
            if folders["train"].exists() and any(folders["train"].iterdir()):
                raise SystemExit(f"{folders['train']} is not empty; give --keep a new or empty folder")
            prepared = dataset.prepare(sizes, a.split_seed, folders["train"], a.mnist)
            result["split"] = prepared.split
            val, test = as_tensor(inp, prepared.held["val"]), as_tensor(inp, prepared.held["test"])
            result["timings_s"]["write_split"] = round(time.perf_counter() - t0, 1)
            log(f"[{a.data}] split written: train {prepared.split['train_per_class']}")

            # 2. the GAN: trained, evaluated, gated and promoted by the pipeline
            log(f"[{a.data}] training the GAN ({a.gan}) for {budget['gan_steps']} steps ...")
            t0 = time.perf_counter()
            gan, model_dir, bypassed_dir = train_gan(
                folders["train"],
                work / "models",
                f"{a.data}-downstream",
                net=GANS[a.gan]["net"],
                train=GANS[a.gan]["train"],
                steps=budget["gan_steps"],
                seed=a.gan_seed,
                eval_samples=budget["eval_samples"],
                judge_steps=budget["judge_steps"],
                band_draws=budget["band_draws"],
                utility=utility,
                minority=list(inp.minority),
                log=log,
            )
            result["timings_s"]["gan_total"] = round(time.perf_counter() - t0, 1)
            result["timings_s"]["gan_parts"] = gan.pop("seconds")
            result["gan"] = gan
            log(f"[{a.data}] best step {gan['best_step']}: promoted {gan['promoted_classes']}")
            save()

            # 3. sample grids of gray models, beside training images
            models = [
                (tag, m, note) for tag, m, note in (("", model_dir, "gated"), ("*", bypassed_dir, "GATE BYPASSED")) if m
            ]
            result["gan_grids"] = {}
            if inp.channels == 1:
                for tag, mdir, note in models:
                    path = out_path.parent / "downstream" / f"{out_path.stem}{'-bypassed' if tag else ''}.png"
                    title = f"GAN {note.lower()}, minority {', '.join(inp.minority)} (*)"
                    saved = model_grid(mdir, prepared.train_images, list(inp.classes), list(inp.minority), path, title)
                    result["gan_grids"][note.lower()] = {"path": common.shown_path(path), **saved}

            # 4. models that add nothing are not run; the others write augment's folders
            result["models_adding_nothing"], result["augment_folder_written"] = {}, {}
            for tag, mdir, note in list(models):
                counts, skipped = synthetic_plan(folders["train"], mdir)
                if not counts:  # every small class failed: its strategies would repeat (c) and (c+)
                    result["models_adding_nothing"][note.lower()] = skipped
                    models.remove((tag, mdir, note))
                    log(f"[{a.data}] the {note} model adds no synthetic image (skipped: {skipped}); not run")
                    continue
                for use in budget["uses"]:
                    if "files" in USES[use]:
                        from augment_gan.augment import augment_folder

                        folders[use + tag] = work / f"train-{use}{'-bypassed' if tag else ''}"
                        shutil.copytree(folders["train"], folders[use + tag])
                        summary = augment_folder(folders[use + tag], mdir, seed=0, **USES[use]["files"])
                        result["augment_folder_written"][use + tag] = dict(summary.written)

            # 5. the classifiers: classic recipes, (c+) on validation, then augment-gan on top
            strategies = classic_strategies(budget["recipes"])
            runs: dict[str, list[dict]] = {}

            def run_all(keys: list[str], phase: str) -> None:
                t0 = time.perf_counter()
                for seed in range(budget["seeds"]):  # seeds outermost: a partial run still covers every strategy
                    for key in keys:
                        r = train_clf(inp, strategies[key], folders, budget["clf_steps"], seed, val, test)
                        runs.setdefault(key, []).append(r)
                        log(
                            f"  [{a.data}] {key:16s} seed {seed}: test macro-F1 {r['test']['macro_f1']:.4f}  "
                            f"minority recall {r['test']['minority_recall']:.4f}  ({r['seconds']:.0f}s)"
                        )
                    result["timings_s"][phase] = round(time.perf_counter() - t0, 1)
                    result["seeds_completed"] = {**result.get("seeds_completed", {}), phase: seed + 1}
                    tabulate(result, strategies, runs)
                    save()  # partial results survive a kill

            run_all(list(strategies), "classic")
            result["c_plus"] = c_plus = pick_c_plus(runs, [k for k in dataset.c_plus_from if k in strategies])
            log(f"[{a.data}] (c+) = {c_plus}: {RECIPES[c_plus]['label']}")
            strategies.update(gan_strategies(budget["uses"], models, c_plus))
            gan_keys = [k for k in strategies if strategies[k]["augment_gan"]]
            if gan_keys:
                run_all(gan_keys, "augment_gan")
            candidates = [(f"{DEFAULT_USE}{tag}@{BASELINE}", BASELINE) for tag in ("*", "")]
            result["gate_agreement"] = {
                "verdict": "the promoted decision: the gate, then the utility check",
                **agreement(
                    gan["decision"], runs, list(inp.minority), {c: i for i, c in enumerate(inp.classes)}, candidates
                ),
            }
            result["timings_s"]["total"] = round(clock.elapsed(), 1)
    finally:
        common.finish(result)
        save()
    print_summary(result)
    print(f"wrote {out_path} (total {clock.elapsed():.0f}s)")


if __name__ == "__main__":
    main()
