"""The markdown ``collate.py`` writes: one renderer per benchmark, each a result dict -> tables.

Numbers are printed from the result as recorded (rounded for reading); nothing is computed
here that the result does not hold, except the verdict word of a paired difference (from
its recorded interval) and ratios the result records the parts of.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .shapes import gate_reasons, gate_view, minority_of

# kind -> (title, what it compares, how to run it now)
SECTIONS: dict[str, tuple[str, str, str]] = {
    "downstream": (
        "Downstream: does augment-gan help a classifier beyond classic augmentation?",
        "An imbalanced split (MNIST t10k, scikit-learn's digits, or RGB photo crops); the same small CNN trained "
        "with paired seeds on classic recipes ((c) oversampling + affine is the bar; (c+) the best classic recipe "
        "on validation) and on augment-gan's uses on top of them (`augment` files: e, g; `BalancedDataset`: f25 ...; "
        "`*` = the gate-bypassed model). Test-set macro-F1 and minority recall, mean ± std over seeds; paired "
        "differences to (c) and (c+). Older files were written by `utility.py` / `utility_check.py`.",
        "python -m benchmarks.downstream --data mnist|digits|rgb",
    ),
    "complementarity": (
        "Complementarity: what the samples add beyond classic augmentation, before any classifier",
        "Per replicate (its own MNIST split, minority digits and GAN seed) and minority class: Δcov = "
        "cov(R; A ∪ G) − cov(R; A ∪ A′), R the class's validation images in an evaluation MLP's features, A 1,200 "
        "classic (affine + elastic) draws of its training images, A′ 300 more, G 300 generator samples. Positive only "
        "if the generator reaches real images classic augmentation does not. Anchors on the same scale: 300 more "
        "real images (oracle), copies of the training images, ±1 px morphology (a non-GAN control). Intervals are "
        "paired t over (replicate, class) pairs.",
        "python -m benchmarks.complementarity --preset screen|full --n-minor 5",
    ),
    "classifier_grid": (
        "The classifier claim: augment-gan on top of the strongest classic recipe, replicated",
        "Per replicate (its own MNIST split, two minority digits, GAN seed and classifier seed): (c+) picked on "
        "validation macro-F1 from one grid (balanced CE, natural + logit adjustment or natural + LDAM-DRW × affine "
        "or affine + elastic × a last-layer re-fit on balanced real images or not); augment-gan = "
        "`BalancedDataset`'s defaults with the GAN the library's defaults train, gate and promote, on (c+); A′ = "
        "the same recipe with each synthetic sample replaced by a training image of its class; the oracle = (c+) "
        "with the minority digits given as many real images as the others. Every arm trains the same steps; "
        "test scores, paired over replicates.",
        "python -m benchmarks.classifier_grid --n-minor 5",
    ),
    "indicator_check": (
        "Does the leading indicator predict the classifier?",
        "Δcov measured on the classifier claim's own GANs and splits (R = each minority digit's validation images; "
        "the evaluation network trained on images the split left unused and the big digits' training images; G = "
        "300 samples exactly as `augment` draws them), rank-correlated with the classifier's per-digit recall "
        "change (augment-gan − A′ and augment-gan − (c+), the result's averaged classifier seeds).",
        "python -m benchmarks.indicator_check --result benchmarks/results/classifier_grid-5-3seeds.json --keep DIR...",
    ),
    "step_pick": (
        "Which step should a small class come from?",
        "Per (replicate, generator, minority class) of kept complementarity runs: the gate's verdict and signals at "
        "every evaluated checkpoint (what a user has), and the class's coverage of its validation images R (what "
        "the user does not have). Each rule picks one of the steps the gate passes; its share is that step's "
        "coverage over the class's best. The first result is where a rule was proposed, the later ones check it.",
        "python -m benchmarks.step_pick --result RESULT --keep DIR [--result RESULT --keep DIR ...]",
    ),
    "run_defaults": (
        "A new user's first job: `run` with every default",
        "An imbalanced folder like a user's (MNIST: seven digits of 400 images, three of 5, 12 and 30; or about 180 "
        "photo crops), `augment-gan run DATA --name NAME --out OUT` as a subprocess, timed; each class's step as "
        "promote picks it, the steps the gate passes it at, the files written, and the reasons printed for the rest.",
        "python -m benchmarks.run_defaults --data mnist|rgb",
    ),
    "quality": (
        "Sample quality per class, and the defaults' ablations",
        "Each variant trained on the same MNIST split by the pipeline, its promoted generator measured per class on "
        "a disjoint test set (domain-judge features); means over the majority and the minority classes. The real "
        "floor: half of the test images against the other half.",
        "python -m benchmarks.quality [--variants default,no-ema]",
    ),
    "time_to_quality": (
        "Time to quality",
        "Every checkpoint of one run per variant measured on the quality benchmark's test set, against CPU minutes "
        "(step × the run's median seconds per step). Target: majority FID ≤ 1.5 × the real floor and minority "
        "recall ≥ 0.6.",
        "python -m benchmarks.time_to_quality --variants old-default,default --minutes 10",
    ),
    "gate_calibration": (
        "Gate calibration",
        "Real images of a class scored as if generated (a perfect generator), and bad sets (one image repeated, "
        "training images, another class), gated at small-class sizes n; pass rates with Wilson 95 % intervals.",
        "python -m benchmarks.gate_calibration",
    ),
    "metrics_speed": (
        "Metric speed",
        "FID + precision/recall (k=3) + density/coverage (k=5) against pytorch-fid + prdc on the same features.",
        "python -m benchmarks.metrics_speed",
    ),
    "generation_speed": (
        "Generation speed",
        "onnxruntime (CPU provider) against PyTorch eager, uint8 images out, same generator, interleaved runs.",
        "python -m benchmarks.generation_speed",
    ),
    "train_speed": (
        "Training speed",
        "Seconds per training step at batch 64; the Trainer's step against a straight-line loop; the share of a "
        "`train --eval-every` run spent evaluating.",
        "python -m benchmarks.train_speed",
    ),
    "photos_128": (
        "128 px photos on a CPU",
        "A 128 px run on crops of scikit-learn's two photographs: its cost, and the sample grid.",
        "python -m benchmarks.photos_128",
    ),
    "service_load": (
        "Service load",
        "`POST /generate` over loopback against the same bodies made in-process; images/s, latency, errors.",
        "python -m benchmarks.service_load",
    ),
    "soak": (
        "Soak and faults",
        "Requests at concurrency 16 over every endpoint, a worker killed under load, model files changed on disk.",
        "python -m benchmarks.soak",
    ),
    "contract_fuzz": (
        "Contract fuzzing",
        "The served API against its own OpenAPI document (schemathesis, every check, the API token on).",
        "python -m benchmarks.contract_fuzz",
    ),
    "gpu_check": (
        "GPU check",
        "Every CUDA path, each against the CPU in the same run.",
        "python -m benchmarks.gpu_check (on a GPU machine; see benchmarks/README.md)",
    ),
}


# --- formatting ---------------------------------------------------------------------------
GAN_DEFAULTS = "the library's defaults"  # a GAN trained with no option set


def num(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.{digits}f}"


def kv(d: dict | None) -> str:
    """``{"a": 1, "b": 2}`` as ``a 1, b 2`` (empty: the defaults)."""
    return ", ".join(f"{k} {v}" for k, v in d.items()) if d else "the defaults"


def spread(s: dict) -> str:
    """mean ± std."""
    return num(s["mean"]) + (f" ± {num(s['std'])}" if s.get("std") is not None else "")


def diff(d: dict | None) -> str:
    """A paired difference: mean [95 % interval] and its verdict (tie when the interval contains 0)."""
    if d is None:
        return "–"
    if d["ci95"] is None:
        return f"{d['mean']:+.3f} (one seed)"
    lo, hi = d["ci95"]
    verdict = "tie" if lo <= 0 <= hi else ("**better**" if lo > 0 else "**worse**")
    return f"{d['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}] {verdict}"


def table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def provenance_line(result: dict[str, Any], command: str | None) -> str:
    """What produced a result: the command as recorded, the machine, the code."""
    parts = []
    if command:
        parts.append(f"Command (as run): `{command}`.")
    m = result.get("machine")
    if isinstance(m, str):  # older files: the CPU model alone
        m = {"cpu_model": m}
    m = m or {"cpu_model": result.get("cpu_model") or result.get("cpu"), "nproc": result.get("nproc")}
    bits = [str(m[k]) for k in ("cpu_model", "gpu") if m.get(k)]
    if m.get("nproc"):
        bits.append(f"{m['nproc']} cores")
    for key in ("load_average_at_start", "load_average_at_end"):
        if m.get(key):
            bits.append(f"load {key.split('_')[-1]} {', '.join(num(x, 2) for x in m[key])}")
    if bits:
        parts.append("Machine: " + "; ".join(bits) + ".")
    versions = result.get("versions") or {k: result[k] for k in ("torch", "onnxruntime", "python") if k in result}
    if versions:
        parts.append("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v) + ".")
    code = result.get("code") or {}
    if code.get("head"):
        dirty = f", {len(code['dirty_files'])} library files modified" if code.get("dirty_files") else ""
        parts.append(f"Code: `{code['head'][:10]}`{dirty}.")
    for key in ("date", "created"):
        if result.get(key):
            parts.append(f"Date: {result[key]}.")
    return " ".join(parts) or "(no provenance recorded)"


# --- downstream ---------------------------------------------------------------------------
def downstream(r: dict, name: str) -> str:
    out = []
    split, b = r.get("split", {}), r.get("budgets", {})
    out.append(
        f"Dataset {r.get('dataset', 'mnist')}: training images per class {kv(split.get('train_per_class'))}; "
        f"{split.get('val_per_class')} validation and {split.get('test_per_class')} test images per class; "
        f"GAN {b.get('gan_steps')} steps; classifier {b.get('classifier')}, {b.get('classifier_steps')} steps, "
        f"{b.get('seeds')} seeds. (c+) = {r.get('c_plus', '–')} (on validation).\n"
    )
    rows = [
        [
            f"`{k}`",
            s["label"],
            spread(s["test"]["macro_f1"]),
            spread(s["test"]["minority_recall"]),
            num(s["val"]["macro_f1"]["mean"]),
        ]
        for k, s in r.get("strategies", {}).items()
    ]
    out.append(table(["", "strategy", "test macro-F1", "minority recall", "val. macro-F1"], rows))
    paired = r.get("paired_vs_baselines")
    if paired:
        out.append("Paired test differences, mean [95 % CI]:\n")
        rows = [
            [f"`{cand}` − `{base}`", diff(d["macro_f1"]), diff(d["minority_recall"])]
            for cand, by_base in paired.items()
            for base, d in by_base.items()
        ]
        out.append(table(["", "macro-F1", "minority recall"], rows))
    elif "best_vs_c" in r:
        out.append("(An older shape: no paired differences recorded; `best_vs_c` holds unpaired ones.)\n")
    if r.get("selection_effect"):
        out.append("Per-sample selection's effect (f25 − f25ns), paired:\n")
        rows = [[f"`{k}`", diff(d["macro_f1"]), diff(d["minority_recall"])] for k, d in r["selection_effect"].items()]
        out.append(table(["", "macro-F1", "minority recall"], rows))
    out.append(gate_table(r))
    agree = r.get("gate_agreement") or {}
    if agree.get("candidate"):
        out.append(
            f"Verdict beside what the samples do: recall change under `{agree['candidate']}` − `{agree['baseline']}`:\n"
        )
        rows = [[c, row["gate"], diff(row["recall_change"])] for c, row in agree["classes"].items()]
        out.append(table(["class", "verdict", "recall change [95 % CI]"], rows))
    return "\n".join(out)


def gate_table(r: dict) -> str:
    """The small classes: the gate's checks alone, promote's utility check, in the gated model."""
    view = gate_view(r)
    rows = []
    for c in minority_of(r):
        if c not in view:
            continue
        v = view[c]
        gate = "–" if v["gate"] is None else ("pass" if v["gate"] else "fail")
        rows.append(
            [
                c,
                r["split"]["train_per_class"].get(c, "–"),
                gate,
                v["utility"] or "not recorded",
                num(v["promoted"]) if v["promoted"] is not None else "not recorded",
                "; ".join(gate_reasons(r, c)) or "–",
            ]
        )
    if not rows:
        return ""
    head = ["small class", "training images", "gate", "utility check", "promoted", "gate's reasons"]
    note = f"GAN best step {r['gan'].get('best_step')}" + (
        "; a gate-bypassed model was also promoted (strategies marked *)" if r["gan"].get("lenient") else ""
    )
    return f"{note}:\n\n" + table(head, rows)


# --- quality and time to quality ----------------------------------------------------------
QUALITY_METRICS = ("fid", "kid", "precision", "recall", "density", "coverage", "class_consistency", "copy_rate")


BASELINES = {
    "no-daug": "the generator without DiffAugment (the defaults before issue 25)",
    "small-daug": "today's default generator (DiffAugment at the classes under 50 images)",
}


def complementarity(r: dict, name: str) -> str:
    b, s = r["budget"], r["summary"]
    base = r.get("baseline", "no-daug")  # files before --baseline: no-daug
    out = [
        f"{b['replicates']} replicates × 2 minority classes of {b['n_minor']} training images; GAN {b['gan_steps']} "
        f"steps (checkpoints every {b['every']}), nets {kv(r.get('net'))}; classic transform {r['classic']}, k = "
        f"{r['k']}.\n"
    ]
    rows = [[f"anchor: {a}", diff(d), "–", "–", "–", "–", "–", "–", "–"] for a, d in s["anchors"].items()]
    for g in r["generators"]:
        gs = s[g]
        rows.append(
            [
                f"generator: {g} (last step)" + (f" {kv(r['generators'][g])}" if r["generators"][g] else ""),
                diff(gs["delta_cov_last"]),
                diff(gs["minus_baseline"]) if "minus_baseline" in gs else "–",
                diff(gs["delta_cov_best_step"]),
                diff(gs["minus_morph"]),
                num(gs["coverage_last"]["mean"]),
                num(gs["copy_rate_last"]["mean"]),
                num(gs["class_consistency_last"]["mean"]),
                num(gs["train_seconds"]["mean"]) if gs.get("train_seconds") else "–",
            ]
        )
    head = [
        "samples X",
        "Δcov",
        f"− {base}",
        "Δcov, best step",
        "− morph",
        "cov(R; G)",
        "copies",
        "consist.",
        "train s",
    ]
    out.append(table(head, rows))
    out.append(
        f'\n"− {base}": paired with {BASELINES.get(base, base)} on the same replicates, at the last step; "best step": '
        "each class's highest Δcov over the checkpoints (picked on R, so optimistic).\n"
    )
    kept = {g: s[g]["retained"] for g in r["generators"] if "retained" in s[g]}
    if kept:
        out.append(
            "Collapse check (each class's coverage, as a running mean of 3 checkpoints, keeps at least 0.8 × its "
            "earlier maximum): "
            + "; ".join(
                f"{g}: {' '.join(f'{v:.2f}' for v in vals)} ({'holds' if s[g]['collapse_free'] else 'fails'})"
                for g, vals in kept.items()
            )
            + (f". [Curves](../{r['curves_plot']})" if r.get("curves_plot") else "")
            + ".\n"
        )
    picked = {g: s[g]["picked_step"] for g in r["generators"] if "picked_step" in s[g]}
    if picked:
        out.append(
            "The step promote picks for each class (the gate's signals only), against that class's best step by "
            "coverage:\n"
        )
        out.append(
            table(
                ["generator", "steps picked", "classes passing at some step", "cov share of best", "Δcov at picked"],
                [
                    [
                        g,
                        " ".join(map(str, v["steps"])),
                        f"{v['passes_somewhere']} of {len(v['steps'])}",
                        diff(v["coverage_share_of_best"]),
                        diff(v["delta_cov"]),
                    ]
                    for g, v in picked.items()
                ],  # fmt: skip
            )
        )
    curve_rows = []
    for rep in r["replicates"]:
        for g, gen in rep["generators"].items():
            for c, points in gen["curves"].items():
                curve_rows.append(
                    [rep["replicate"], c, g, " ".join(f"{p['delta_cov']:+.2f}" for p in points),
                     " ".join(f"{p['coverage']:.2f}" for p in points)]
                )  # fmt: skip
    out.append("Per checkpoint (Δcov, then cov(R; G)), oldest first:\n")
    out.append(table(["replicate", "class", "generator", "Δcov by step", "coverage by step"], curve_rows))
    return "\n".join(out)


GRID_ARMS = {
    "c_plus": "(c+): the best classic config on validation",
    "gan": "augment-gan (BalancedDataset's defaults) on (c+)",
    "a_prime": "A′: the same, synthetic slots filled by training images",
    "oracle": "oracle: (c+) with as many real minority images as the others",
}


def classifier_grid(r: dict, name: str) -> str:
    b, s = r["budgets"], r.get("summary")
    if not s:
        return "No replicate finished.\n"
    head = ["arm", "macro-F1", "balanced acc.", "minority recall"]
    rows = [[GRID_ARMS[a], *[num(m[k]) for k in ("macro_f1", "balanced_accuracy", "minority_recall")]]
            for a, m in s["test_means"].items()]  # fmt: skip
    out = [
        f"{s['n_replicates']} replicates × 2 minority digits of {b['n_minor']} training images (the others "
        f"{b['n_major']}); classifier {b['clf_steps']} steps (+ {b['refit_steps']} re-fitting the last layer when "
        f"(c+) re-fits); GAN {b['gan_steps']} steps, {r.get('generator') or GAN_DEFAULTS}; "
        f"{b['n_test']} test images per digit. "
        "Test means:\n",
        table(head, rows),
        "Paired differences over replicates (mean [95 % t interval]):\n",
        table(
            ["pair", "macro-F1", "balanced acc.", "minority recall"],
            [
                [pair, *[diff(d[k]) for k in ("macro_f1", "balanced_accuracy", "minority_recall")]]
                for pair, d in s["paired"].items()
            ],
        ),  # fmt: skip
    ]
    share = s["share_of_headroom"].get("minority_recall")
    if share:
        out.append(
            f"augment-gan − (c+) is {share['mean']:.2f} [{share['ci95'][0]:.2f}, {share['ci95'][1]:.2f}] of the "
            "oracle's minority-recall headroom.\n"
        )
    v = r.get("versus")
    if v:
        out.append(
            f"Against `{v['file']}` ({v['generator'] or GAN_DEFAULTS}) on the {len(v['replicates'])} replicates both "
            "ran (the same splits and classifier seeds):\n"
        )
        out.append(
            table(
                ["pair", "macro-F1", "balanced acc.", "minority recall"],
                [
                    [pair, *[diff(v[pair][k]) for k in ("macro_f1", "balanced_accuracy", "minority_recall")]]
                    for pair in ("gan - other gan", "gan - a_prime", "other gan - other a_prime")
                ],
            )  # fmt: skip
        )
    out.append(
        "Synthetic images added per replicate (BalancedDataset's counts, both minority digits): "
        + ", ".join(map(str, s["synthetic_images_added"]))
        + ".\n\nThe grid on validation (mean macro-F1 over replicates; how often each config was (c+)):\n"
    )
    out.append(
        table(
            ["config", "val macro-F1", "picked"],
            [[k, num(v["val_macro_f1"]), v["picked"]] for k, v in r["grid_on_validation"].items()],
        )
    )
    return "\n".join(out)


def indicator_check(r: dict, name: str) -> str:
    s = r["summary"]
    head = ["replicate", "digit", "synthetic", "Δcov", "gan − A′ (val)", "gan − A′ (test)", "gan − (c+) (test)"]
    rows = [
        [p["replicate"], p["digit"], p["synthetic"], num(p.get("delta_cov")) if "delta_cov" in p else "skipped",
         *[f"{p[k]:+.3f}" for k in ("gan - a_prime (val)", "gan - a_prime (test)", "gan - c_plus (test)")]]
        for p in r["pairs"]
    ]  # fmt: skip
    corr = [
        [k, num(c["rho"]), f"[{c['ci95'][0]:+.2f}, {c['ci95'][1]:+.2f}]" if c["ci95"] else "–", c["n"]]
        for k, c in s["spearman"].items()
    ]
    return "\n".join(
        [
            f"Δcov of the GANs of `{r['source']}` on their own splits (R = each digit's validation images), against "
            f"the classifier's per-digit recall change; {s['n_pairs']} (replicate, digit) pairs measured, "
            f"{s['n_skipped']} skipped (no synthetic images). Spearman's rank correlation, 95 % bootstrap interval:\n",
            table(["Δcov against", "rho", "95 % interval", "n"], corr),
            table(head, rows),
        ]
    )


def step_pick(r: dict, name: str) -> str:
    def rules(summary: dict) -> str:
        rows = [
            [rule, f"{num(v['share']['mean'])} [{num(v['share']['ci95'][0])}, {num(v['share']['ci95'][1])}]"
             if v["share"]["ci95"] else num(v["share"]["mean"]), f"{v['at_least_good']} of {summary['n_curves']}",
             diff(v["minus_promote"])]
            for rule, v in summary["rules"].items()
        ]  # fmt: skip
        return table(["rule", "share of the best coverage", f"at ≥ {r['good_share']}", "− promote's rule"], rows)

    parts = []
    for s in r["sets"]:
        skipped = f"; {len(s['skipped'])} skipped (no reports, or no step passes)" if s["skipped"] else ""
        parts.append(f"{s['role'].capitalize()} `{s['source']}`: {s['summary']['n_curves']} class curves{skipped}.\n")
        parts.append(rules(s["summary"]))
    if r.get("checked"):
        n = r["checked"]["n_curves"]
        parts.append(
            f"Every check set pooled, the out-of-sample figure (a curve two results share counted once): {n} class curves.\n"
        )
        parts.append(rules(r["checked"]))
    parts.append(f"All sets pooled: {r['pooled']['n_curves']} class curves.\n")
    parts.append(rules(r["pooled"]))
    return "\n".join(parts)


def run_defaults(r: dict, name: str) -> str:
    rows = [
        [c, v["images"], v["step"], " ".join(map(str, v["passed_at"])) or "none", v["written"],
         "; ".join(v["reasons_at_step"]) or "–"]
        for c, v in r["classes"].items()
    ]  # fmt: skip
    return (
        f"{r['images']} images ({r['data']}); `augment-gan run` with "
        + (f"`{' '.join(r['budget']['extra'])}`" if r["budget"].get("extra") else "every default")
        + f": **{num(r['seconds'] / 60)} "
        f"minutes**, exit code {r['exit_code']}. Every small class that passes at some step gets samples: "
        f"{r['small_passing_somewhere_get_samples']}; every other class's reason printed: "
        f"{r['every_other_class_explained']}.\n\n"
        + table(["class", "images", "step", "passes at", "files written", "reasons at its step"], rows)
    )


def quality(r: dict, name: str) -> str:
    b = r.get("budget", {})
    head = ["variant", "classes", "FID", "KID", "P", "R", "dens.", "cov.", "cons.", "copies", "gate (test)", "step"]
    rows = []
    for v, res in r["variants"].items():
        for g in ("majority", "minority"):
            row = res["test"]["groups"][g]
            rows.append(
                [v if g == "majority" else "", g, *[num(row.get(m)) for m in QUALITY_METRICS]]
                + [res["test"]["gate"]["counts"][g], res["best_step"] if g == "majority" else ""]
            )
    floor = r.get("real_floor")
    for g in ("majority", "minority") if floor else ():
        row = floor["groups"][g]
        rows.append(["real floor" if g == "majority" else "", g, *[num(row.get(m)) for m in QUALITY_METRICS], "", ""])
    intro = (
        f"{b.get('steps')} steps, nets {kv(b.get('net'))}, {r['split']['test_per_class']} test images and "
        f"{b.get('test_samples_per_class')} samples per class; means over the classes of each group.\n"
    )
    return intro + "\n" + table(head, rows)


def time_to_quality(r: dict, name: str) -> str:
    floor = r["real_floor"]["groups"]["majority"]["fid"]
    out = [f"Real floor (majority FID): {num(floor)}; budget {num(r.get('budget_minutes'))} CPU-minutes a variant.\n"]
    rows = [
        [
            v,
            num(res["sec_per_step_median"]),
            num(res["first_cpu_minutes_meeting_target"])
            if res["first_cpu_minutes_meeting_target"] is not None
            else "never",
        ]
        for v, res in r["variants"].items()
    ]
    out.append(table(["variant", "s/step", "first CPU-minutes meeting the target"], rows))
    for v, res in r["variants"].items():
        pts = res["curve"]
        out.append(f"`{v}` ({kv(res['config'])}):\n")
        out.append(
            table(
                ["CPU-min", *[num(p["cpu_minutes"], 1) for p in pts]],
                [
                    ["majority FID", *[num(p["majority_fid"], 1) for p in pts]],
                    ["minority recall", *[num(p["minority_recall"], 2) for p in pts]],
                ],
            )
        )
    return "\n".join(out)


# --- the rest -----------------------------------------------------------------------------
def gate_calibration(r: dict, name: str) -> str:
    out = [
        f"{r.get('trials_per_size')} trials per size (3 small classes each), {r.get('samples_per_class')} samples per class.\n"
    ]
    rows = []
    for n, size in r["sizes"].items():
        for key, s in size["summary"].items():
            lo, hi = s["ci95"]
            failing = ", ".join(f"{k} {v}" for k, v in s["failing_metrics"].items()) or "–"
            rows.append(
                [
                    n,
                    key,
                    s["classes"],
                    f"{num(s['pass_rate'])} [{num(lo)}, {num(hi)}]",
                    num(s["fixed_pass_rate"]),
                    failing,
                ]
            )
    out.append(
        table(["n", "set / classes", "classes", "pass rate [95 %]", "fixed thresholds", "failing metrics"], rows)
    )
    return "\n".join(out)


def metrics_speed(r: dict, name: str) -> str:
    med = r["median_seconds"]
    rows = [
        [
            f"{r['n_real']:,} × {r['n_fake']:,} × {r['dim']}",
            num(med["ours"]),
            num(med["theirs"]),
            num(r["ratio_ours_over_theirs"]),
        ]
    ]
    a = r.get("agreement", {})
    return table(["features", "ours (s)", "pytorch-fid + prdc (s)", "ratio"], rows) + (
        f"\nAgreement: FID relative difference {a.get('fid_relative_difference', 0):.1e}; density "
        f"{a.get('density_difference', 0):+.1e}; coverage {a.get('coverage_difference', 0):+.1e}.\n"
    )


def generation_speed(r: dict, name: str) -> str:
    rows = [
        [x["batch"], num(x["ort_images_per_s"]), num(x["eager_images_per_s"]), num(x["ratio_ort_over_eager"])]
        for x in r["results"]
    ]
    return f"Model: {r['model']}; {r.get('threads')} threads; median of {r.get('repeats')} runs.\n\n" + table(
        ["batch", "onnxruntime img/s", "eager img/s", "ratio"], rows
    )


def train_speed(r: dict, name: str) -> str:
    rows = [
        [
            x["config"],
            x["resolution"],
            x["precision"],
            x["device"],
            num(x["median_sec_per_step"]),
            num(x["images_per_s"]),
        ]
        for x in r["results"]
    ]
    out = [table(["nets", "px", "precision", "device", "s/step", "images/s"], rows)]
    if r.get("overhead"):
        o = r["overhead"]
        out.append(
            f"Trainer {num(o['trainer_sec_per_step'])} s/step against a straight-line loop "
            f"{num(o['straight_line_sec_per_step'])} s/step: ratio {num(o['ratio_trainer_over_straight_line'])}.\n"
        )
    if r.get("eval_share"):
        e = r["eval_share"]
        out.append(
            f"Evaluation during `train --eval-every {e['eval_every']}` ({e['steps']} steps): {num(e['eval_seconds'])} s "
            f"of {num(e['wall_seconds'])} s wall ({num(100 * e['eval_share'], 1)} %).\n"
        )
    return "\n".join(out)


def photos_128(r: dict, name: str) -> str:
    return (
        f"{r['steps']} steps at {r['resolution']} px, nets {kv(r['nets'])}, batch {r['batch_size']}: "
        f"{num(r['median_sec_per_step'])} s a step (median), {num(r['train_seconds'])} s in all. "
        f"Images per class: {kv(r['classes'])}. Grid: `{r['grid']}`.\n"
    )


def service_load(r: dict, name: str) -> str:
    rows = [
        [
            x["format"],
            x["count"],
            x["concurrency"],
            num(x["images_per_s"]),
            num(x["p50_ms"]),
            num(x["p99_ms"]),
            x["errors"],
            num(x.get("ratio")),
        ]
        for x in r["levels"]
    ]
    return f"Model: {r['model']}; selection {num(r.get('selection'))}; {r.get('workers')} worker.\n\n" + table(
        ["format", "images/request", "concurrency", "images/s", "p50 ms", "p99 ms", "errors", "ratio to in-process"],
        rows,
    )


def soak(r: dict, name: str) -> str:
    s, k, f = r["soak"], r["worker_killed"], r["files_changed"]
    return table(
        ["phase", "result"],
        [
            [
                "soak",
                f"{s['requests']:,} requests at concurrency {s['concurrency']}: {s['errors']} errors, {num(s['requests_per_s'])} requests/s, worker RSS growth {num(100 * s['rss_growth'], 1)} % from request {s['rss_growth_from_request']:,}",
            ],
            [
                "worker killed",
                f"{k['failed_requests']} of {k['requests']:,} requests failed; first success {num(k['first_success_after_kill_s'])} s after the kill; restarted: {num(k['worker_restarted'])}",
            ],
            [
                "files changed",
                f"running worker keeps serving: {num(f['running_worker_keeps_serving_same_pixels'])}; restart refused: {num(f['restart_refused'])}",
            ],
        ],
    )


def contract_fuzz(r: dict, name: str) -> str:
    t = r["test_cases"]
    by_status = ", ".join(f"{k}: {v:,}" for k, v in r["server_responses_by_status"].items())
    return (
        f"schemathesis {r.get('schemathesis')}: {t['generated']:,} cases, {t['with_failures']} with failures, "
        f"{len(r['errors'])} errors; the server's responses by status: {by_status} (5xx: {r['server_5xx']}).\n"
    )


def gpu_check(r: dict, name: str) -> str:
    if "parts" in r:
        return table(
            ["part", "status", "seconds"], [[p, v["status"], num(v["seconds"])] for p, v in r["parts"].items()]
        )
    return f"Status: {r.get('status')} ({num(r.get('seconds'))} s). {r.get('skipped') or r.get('error') or ''}\n"


RENDERERS: dict[str, Callable[[dict, str], str]] = {
    "downstream": downstream,
    "complementarity": complementarity,
    "classifier_grid": classifier_grid,
    "indicator_check": indicator_check,
    "step_pick": step_pick,
    "run_defaults": run_defaults,
    "quality": quality,
    "time_to_quality": time_to_quality,
    "gate_calibration": gate_calibration,
    "metrics_speed": metrics_speed,
    "generation_speed": generation_speed,
    "train_speed": train_speed,
    "photos_128": photos_128,
    "service_load": service_load,
    "soak": soak,
    "contract_fuzz": contract_fuzz,
    "gpu_check": gpu_check,
}
