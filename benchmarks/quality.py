"""Sample quality per class, with the defaults' ablations: DiffAugment, two D steps, no EMA.

An imbalanced split of the MNIST test set (t10k; read from ``--mnist``, never copied into
the repo), made by ``testset.quality_split``: 8 majority digits with ``--n-major`` (500)
training images each, the minority digits 3 and 8 with ``--n-minor`` (25) each, and a
DISJOINT real held-out test set of ``--n-test`` (300) images per class that no variant and
no judge ever trains on. The train split is written as a PNG ImageFolder in a temp dir.

Seven variants are trained on that folder through the toolkit (``pipeline.run``), same
seed, same step budget (``--steps``, 700):

  default         ``TrainConfig()`` and ``NetConfig()`` defaults: hinge loss, n_critic 1,
                  batch 64, DiffAugment translation,cutout at the classes under 50
                  images, EMA decay 0.999 (with
                  the trainer's warm-up ``min(decay, (1 + step) / (10 + step))``),
                  class_balance 1 (classes drawn equally often), D's minibatch std per class
                  (batches drawn in groups of 4 images of one class)
  diffaugment     the same with DiffAugment ``color,translation,cutout`` at every class (the default until issue 13)
  no-diffaugment  the same without DiffAugment (the default from issue 13 to issue 25)
  n-critic-2      the same with two D steps per G step (the default until issue 13)
  no-ema          the same with ``ema_decay=0.0``. What that means exactly: the warm-up then
                  gives ``decay = min(0, ...) = 0``, so after every step the "EMA" copy's
                  parameters are set to the live generator's (``lerp`` with weight 1, exact),
                  while its BatchNorm statistics are re-estimated by ``recalibrate_batchnorm``
                  before every checkpoint, exactly as for the default. So "no EMA" = the raw
                  generator's weights, with the same standing BN statistics (the live G's own
                  running averages from training are not used), evaluated, gated, promoted and
                  exported by the unchanged pipeline. The EMA does not touch the training RNG,
                  so this live G is the default run's live G, bit for bit (checked and
                  recorded in the JSON as ``no_ema_checks``): the ablation isolates the weight
                  averaging and nothing else.
  class-balance-0.5  the same with ``class_balance=0.5`` (a class drawn in proportion to
                  the square root of its size)
  old-default     the defaults before the per-class minibatch std: ``class_balance=0.5``,
                  D's minibatch std over the whole batch (``minibatch_std="batch"``),
                  DiffAugment and n_critic 2
  mode-seeking    the defaults plus MSGAN's mode-seeking term at weight 0.03
                  (``mode_seeking=0.03``, off by default)

Nets: the demo's (``g_width 16, d_width 16``, as in ``augment-gan demo`` and
``downstream.py``), not the CLI's 32/32, so that one training fits a few minutes on
a 2-core CPU (~0.16 s a step at batch 64 with one D step, ~0.24 s with two). Each run is evaluated by the toolkit at half and
at the full budget (``EvalDuringTraining``, ``GateThresholds()``), the best step is picked by
the toolkit's rule and promoted (``promote_checkpoint``, ONNX export included). When no class
passes, nothing is promoted; the best-step checkpoint is still measured and marked so.

The promoted checkpoint's generator (the EMA weights the ONNX file was exported from) is then
measured per class against the disjoint test set by ``testset.Measurer`` (the library's
``measure`` in the run's domain-judge features, rescaled as the evaluation does; FID, KID,
precision/recall k=3, density/coverage k=5, copy rate by the ratio test against the run's
training images, class consistency). Reported per class, as means over the majority and
over the minority classes, with the gate's per-class checks applied to these test-set
metrics and, separately, the toolkit's own gate verdict at promotion (which compares with
the run's 10 % hold-out, or with the real images of a small class the judge did not train
on). A "real floor" (half of the test images against the other half) shows what real data
scores at that sample size.

Per-class sample grids (10 samples per class from the evaluated generator, the same noise
for every variant, beside 5 real test images) go to ``benchmarks/results/quality/<variant>.png``.

    python -m benchmarks.quality [--quick] [--steps 700] [--n-major 500] [--n-minor 25] [--variants default,no-ema]

JSON: ``benchmarks/results/quality.json`` (``quality-quick.json`` with ``--quick``, whose grids
go to ``benchmarks/results/quality/quick/``; with ``--out``, grids go to ``quality/`` beside it).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import common
from .gan import NET, log_gates
from .grids import save_grid
from .mnist import MINORITY, load_mnist, write_folder
from .testset import METRICS, Measurer, TestSet, class_gate, gate_counts, group_means, quality_split

FULL_DIFFAUGMENT = "color,translation,cutout"
VARIANTS: dict[str, dict] = {
    "default": {},
    "diffaugment": {"diffaugment": FULL_DIFFAUGMENT, "diffaugment_below": 0},  # every class
    "no-diffaugment": {"diffaugment": "none"},  # the default until issue 25
    "n-critic-2": {"n_critic": 2},
    "no-ema": {"ema_decay": 0.0},
    "class-balance-0.5": {"class_balance": 0.5},
    "old-default": {
        "minibatch_std": "batch",
        "class_balance": 0.5,
        "diffaugment": FULL_DIFFAUGMENT,
        "diffaugment_below": 0,
        "n_critic": 2,
    },
    "mode-seeking": {"mode_seeking": 0.03},
}
NET_OPTIONS = ("minibatch_std",)  # variant keys that are NetConfig fields; the rest are TrainConfig's
GRID_SAMPLES, GRID_REAL = 10, 5
PRESETS = {  # judge_steps, band_draws None: the library's
    "full": {
        "variants": ",".join(VARIANTS),
        "steps": 700,
        "n_major": 500,
        "n_minor": 25,
        "n_test": 300,
        "eval_samples": 200,
        "judge_steps": None,
        "band_draws": None,
    },
    "quick": {  # two variants: the pipeline and the no-ema checks run; a smoke run's figures mean nothing
        "variants": "default,no-ema",
        "steps": 40,
        "n_major": 100,
        "n_minor": 10,
        "n_test": 60,
        "eval_samples": 50,
        "judge_steps": 100,
        "band_draws": 20,
    },
}


def variant_config(name: str, steps: int, seed: int):
    """The TrainConfig of a variant: the library defaults, the budget, and the ablation."""
    from augment_gan.run import TrainConfig

    train = {k: v for k, v in VARIANTS[name].items() if k not in NET_OPTIONS}
    return TrainConfig(steps=steps, checkpoint_every=max(steps // 2, 1), seed=seed, **train)


def variant_net(name: str) -> dict:
    """The NetConfig options of a variant: the demo's nets and the ablation."""
    return {**NET, **{k: v for k, v in VARIANTS[name].items() if k in NET_OPTIONS}}


def run_variant(name: str, train_dir: Path, models_dir: Path, tests: TestSet, budget: dict, seed: int, log) -> dict:
    """Train, evaluate during training, promote, then measure on the test set."""
    from augment_gan.evaluation.config import EvalConfig
    from augment_gan.evaluation.evaluate import generate_per_class
    from augment_gan.evaluation.gate import GateThresholds, apply_gate
    from augment_gan.pipeline import TrainEval, run
    from augment_gan.run import Run, RunSpec

    # the toolkit's own pipeline: train with evaluation at every checkpoint but step 0, gate, promote
    cfg = variant_config(name, budget["steps"], seed)
    judge_steps = budget["judge_steps"] or EvalConfig.judge_steps
    eval_cfg = EvalConfig(
        samples_per_class=budget["eval_samples"],
        seed=seed,
        judge_steps=judge_steps,
        band_draws=budget["band_draws"] or EvalConfig.band_draws,
    )
    thresholds = GateThresholds()
    result = run(
        train_dir,
        f"mnist-{name}",
        models_dir=models_dir,
        net=variant_net(name),
        train=cfg,
        evaluation=TrainEval(every=cfg.checkpoint_every, config=eval_cfg, thresholds=thresholds),
        utility=False,  # sample quality only: the utility check is the downstream benchmark's business
    )
    seconds = dict(result.seconds)
    run_dir, reports, step = result.run_dir, result.reports, result.best_step
    the_run = Run(run_dir, RunSpec.read(run_dir), result.data, progress=False)
    promoted = str(result.model_dir.relative_to(models_dir)) if result.model_dir else None
    step_times = [r["sec_per_step"] for r in the_run.dir.read_metrics() if "sec_per_step" in r]
    toolkit_gate = apply_gate(reports[step], thresholds)
    log_gates(name, reports, log)

    # the promoted (best-step) checkpoint's EMA generator, measured on the disjoint test set
    t0 = time.perf_counter()
    measurer = Measurer.for_run(run_dir, tests, judge_steps=judge_steps, seed=seed, data=result.data)
    generator, g_cfg, _ = the_run.ema_generator(step)
    samples = budget["n_test"]
    measured = measurer.measure(generator, samples, seed)
    test_gate = class_gate(measured, thresholds, step)
    seconds["test_eval"] = time.perf_counter() - t0
    classes = tests.classes
    grid_fakes = generate_per_class(generator, g_cfg, GRID_SAMPLES, seed)  # the same noise for every variant

    out = {
        "train_config": cfg.to_dict(),
        "run_dir_name": run_dir.name,
        "evaluated_steps": sorted(reports),
        "best_step": step,
        "promoted_model": promoted,
        "sec_per_step_median": statistics.median(step_times) if step_times else None,
        "test": {
            "n_fake_per_class": samples,
            "per_class": {
                c: {k: measured[c].get(k) for k in ("n_train", "n_reference", "n_fake", "n_pr", *METRICS, "kid_std")}
                for c in classes
            },
            "groups": group_means(measured),
            "gate": {
                "checks": "per class (a test-set measurement has no overall FID)",
                "passed_classes": test_gate["passed_classes"],
                "counts": gate_counts(test_gate["passed_classes"], classes),
                "reasons": {c: r["reasons"] for c, r in test_gate["per_class"].items() if not r["passed"]},
            },
        },
        "toolkit_eval": {
            "note": "the toolkit's own evaluation at the best step, as used for promotion",
            "eval_samples_per_class": budget["eval_samples"],
            "overall_fid": reports[step]["overall"]["fid"],
            "per_class": {
                c: {k: reports[step]["classes"][c].get(k) for k in ("reference", "n_reference", *METRICS)}
                for c in classes
            },
            "gate": {
                "passed_classes": toolkit_gate["passed_classes"],
                "counts": gate_counts(toolkit_gate["passed_classes"], classes),
                "reasons": {c: r["reasons"] for c, r in toolkit_gate["per_class"].items() if not r["passed"]},
            },
        },
        "judge": {
            "steps": judge_steps,
            "feature_scale": measurer.feature_scale,
            "test_accuracy": measurer.judge_accuracy,
        },
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }
    # what the run keeps for the caller (not in the JSON)
    out["_grid_fakes"] = grid_fakes.numpy().reshape(len(classes), GRID_SAMPLES, *grid_fakes.shape[1:])[:, :, 0]
    out["_checkpoint"] = the_run.checkpoint(step)[1]
    out["_final_checkpoint"] = the_run.checkpoint("latest")[1]
    out["_measurer"] = measurer
    return out


def no_ema_checks(no_ema: dict, default: dict | None) -> dict:
    """The no-ema checkpoint's 'EMA' weights equal its live G's; its live G equals the default's."""
    import torch

    from augment_gan.run.checkpoint import load_checkpoint

    state = load_checkpoint(no_ema["_checkpoint"])
    params = dict(state["G"])
    ema_vs_live = max(
        float((state["G_ema"][k].float() - v.float()).abs().max())
        for k, v in params.items()
        if "running" not in k and "num_batches" not in k
    )
    out: dict[str, Any] = {"max_abs_diff_ema_vs_live_params": ema_vs_live}
    if default is not None:
        a = load_checkpoint(no_ema["_final_checkpoint"])["G"]
        b = load_checkpoint(default["_final_checkpoint"])["G"]
        out["final_live_G_identical_to_default_live_G"] = all(torch.equal(a[k], b[k]) for k in a)
    return out


# --- reporting ----------------------------------------------------------------------------
def fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}g}" if abs(v) < 1 else f"{v:.1f}"


def print_table(result: dict) -> None:
    cols = ("FID", "KID", "P", "R", "dens", "cov", "cons", "copy")
    print(
        f"\nper-class means on the disjoint test set ({result['split']['test_per_class']}/class), "
        f"{result['budget']['steps']} steps, demo nets"
    )
    print(
        f"{'variant':15s} {'group':9s} "
        + " ".join(f"{c:>6s}" for c in cols)
        + f" {'gate(test)':>10s} {'gate(tk)':>9s} {'step':>5s} {'promoted':>9s}"
    )
    for variant, r in result["variants"].items():
        groups, tg, kg = r["test"]["groups"], r["test"]["gate"]["counts"], r["toolkit_eval"]["gate"]["counts"]
        for g in ("majority", "minority"):
            vals = " ".join(f"{fmt(groups[g][m]):>6s}" for m in METRICS)
            print(
                f"{variant:15s} {g:9s} {vals} {tg[g]:>10s} {kg[g]:>9s} {r['best_step']:>5d} "
                f"{'yes' if r['promoted_model'] else 'no':>9s}"
            )
    floor = result.get("real_floor")
    if floor:
        for g in ("majority", "minority"):
            vals = " ".join(f"{fmt(floor['groups'][g][m]):>6s}" for m in METRICS)
            print(f"{'real floor':15s} {g:9s} {vals}   (real half vs real half, n={floor['n_each']})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist", type=Path, default=common.DEFAULT_MNIST)
    p.add_argument("--steps", type=int, help="GAN steps per variant")
    p.add_argument("--n-major", type=int, help="training images per majority class")
    p.add_argument("--n-minor", type=int, help="training images per minority class")
    p.add_argument("--n-test", type=int, help="disjoint real test images (and samples) per class")
    p.add_argument("--eval-samples", type=int, help="samples per class of the toolkit's evaluation during training")
    p.add_argument("--judge-steps", type=int, help="steps of the domain judge (default: the library's)")
    p.add_argument("--variants", help=f"comma-separated subset of {','.join(VARIANTS)} (default: all; quick 2)")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--seed", type=int, default=0, help="GAN, judge and evaluation seed")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--grids", type=Path, default=None, help="grid folder (default: quality/ beside the JSON)")
    p.add_argument("--keep", type=Path, default=None, help="work in this dir and keep it (default: a temp dir)")
    a = common.parse_args(p, PRESETS)
    budget = common.budget(a, PRESETS[a.preset])
    variants = common.pick(budget["variants"], VARIANTS)
    out_path = a.out or common.default_out("quality", a.preset)
    # beside the JSON: benchmarks/results/quality/ (quick: .../quality/quick/); a --out elsewhere keeps them there
    grid_dir = a.grids or out_path.parent / "quality" / ("" if a.preset == "full" else a.preset)
    clock = common.Clock()
    log = clock.log

    from augment_gan.data import load_image_folder
    from augment_gan.evaluation.config import EvalConfig
    from augment_gan.evaluation.gate import GateThresholds

    images, labels = load_mnist(a.mnist)
    split = quality_split(labels, budget["n_major"], budget["n_minor"], budget["n_test"], a.split_seed)
    result: dict = {
        "benchmark": "quality",
        "command": common.command_line(),
        "preset": a.preset,
        "quick": a.quick,
        "split": {
            "source": "MNIST t10k",
            "seed": a.split_seed,
            "minority_digits": list(MINORITY),
            "train_per_class": {str(d): len(split["train"][d]) for d in range(10)},
            "test_per_class": budget["n_test"],
            "note": "test images are disjoint from the training folder; no GAN or judge sees them",
        },
        "budget": {
            "steps": budget["steps"],
            "batch_size": 64,
            "net": NET,
            "seed": a.seed,
            "eval_samples_per_class_during_training": budget["eval_samples"],
            "test_samples_per_class": budget["n_test"],
            "judge_steps": budget["judge_steps"] or EvalConfig.judge_steps,
            "band_draws": budget["band_draws"] or EvalConfig.band_draws,
        },
        "variants_config": {v: VARIANTS[v] for v in variants},
        "gate_thresholds": GateThresholds().as_dict(),
        **common.provenance(),
        "timings_s": {},
        "variants": {},
    }

    def write() -> None:
        common.write_json(out_path, result)

    try:
        with common.work_dir(a.keep, "quality-bench-") as work:
            t0 = time.perf_counter()
            train_dir, test_dir = work / "train", work / "test"
            write_folder(train_dir, images, split["train"])
            write_folder(test_dir, images, split["test"])
            train_data = load_image_folder(train_dir, progress=False)
            tests = TestSet.load(test_dir, train_data)  # decoded exactly as the training images are
            result["timings_s"]["write_split"] = round(time.perf_counter() - t0, 1)
            log(f"split written: train {result['split']['train_per_class']}, test {budget['n_test']}/class")
            reals = np.stack([tests.images[c][:GRID_REAL, 0].numpy() for c in tests.classes])
            minority = [str(d) for d in MINORITY]

            kept: dict[str, dict] = {}
            for v in variants:
                log(f"variant {v}: training {budget['steps']} steps (demo nets) ...")
                t0 = time.perf_counter()
                r = run_variant(v, train_dir, work / "models", tests, budget, a.seed, log)
                r["seconds"]["total"] = round(time.perf_counter() - t0, 1)
                r["load_average_after"] = common.load_average()
                grid = grid_dir / f"{v}.png"
                title = f"{v}, step {r['best_step']}{'' if r['promoted_model'] else ' (not promoted)'}"
                saved = save_grid(grid, r.pop("_grid_fakes"), reals, tests.classes, minority, title)
                r["grid"] = {
                    "path": common.shown_path(grid),
                    **saved,
                    "layout": f"a row per class (minority marked *): {GRID_SAMPLES} samples (the same noise "
                    f"for every variant), then {GRID_REAL} real test images",
                }
                kept[v] = {k: r.pop(k) for k in [k for k in r if k.startswith("_")]}
                first = kept[next(iter(kept))]["_measurer"]
                r["judge"]["same_judge_as_first_variant"] = kept[v]["_measurer"].feature_scale == first.feature_scale
                result["variants"][v] = r
                g = r["test"]["groups"]
                log(
                    f"variant {v}: best step {r['best_step']}, promoted {r['promoted_model']}; test gate "
                    f"{r['test']['gate']['counts']}; minority FID {fmt(g['minority']['fid'])} "
                    f"cov {fmt(g['minority']['coverage'])} ({r['seconds']['total']:.0f}s)"
                )
                if "real_floor" not in result:
                    result["real_floor"] = kept[v]["_measurer"].real_floor(a.seed)
                result["timings_s"][v] = r["seconds"]["total"]
                write()  # partial results survive a kill
            if "no-ema" in kept:
                result["no_ema_checks"] = no_ema_checks(kept["no-ema"], kept.get("default"))
                log(f"no-ema checks: {result['no_ema_checks']}")
            result["timings_s"]["total"] = round(clock.elapsed(), 1)
    finally:
        common.finish(result)
        write()

    print_table(result)
    print(f"wrote {out_path} and grids in {grid_dir} (total {clock.elapsed():.0f}s)")


if __name__ == "__main__":
    main()
