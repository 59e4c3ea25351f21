"""Gate calibration on MNIST: real images scored as if generated, and bad sets, per class size.

The question: does the gate pass a class whose "samples" are real images of that class it
never saw, at n = 10, 15, 30 and 100 real images (the target: >= 95 %), and does it still
fail collapsed, copied and wrong-class sets at those sizes?

Each trial writes an imbalanced folder from the MNIST test set (seven classes of
``--n-major`` images, three of n; which three rotates with the trial), starts a run on it
(one tiny training step: only the run's split matters), and builds the evaluator exactly as
``augment-gan evaluate`` does (the domain judge, the real-vs-real bands, the default samples
per class). It then evaluates "generators" that return images from banks, and gates each
report twice (calibrated, and the fixed thresholds alone):

* ``real``: fresh images of each class, never in the folder (a perfect generator);
* ``collapsed``: one fresh image per class, repeated;
* ``copies``: the class's own training images, cycled;
* ``another class``: fresh images of the next digit.

Only the three small classes are counted (the big ones are reported apart). Writes
``results/gate_calibration.json``: per n and set, the pass rate with a Wilson 95 % interval
and the failing metrics' tally.

    python -m benchmarks.gate_calibration            # 4 sizes x 6 trials, ~20 min
    python -m benchmarks.gate_calibration --quick    # smoke: 1 trial, small sets

It builds the run's evaluator itself (not ``augment_gan.evaluation.measure``): what is
calibrated is the gate's own evaluation, real-vs-real bands included.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from . import common
from .mnist import load_mnist, write_folder

PRESETS = {  # samples None: EvalConfig's
    "full": {"sizes": [10, 15, 30, 100], "trials": 6, "n_major": 200, "samples": None},
    "quick": {"sizes": [15], "trials": 1, "n_major": 60, "samples": 100},
}
SETS = ("real", "collapsed", "copies", "another class")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def make_bank_generator(banks: dict[int, torch.Tensor]):  # noqa: F821
    """A generator that returns class y's bank images in order (cycling), as [-1, 1] floats."""
    import torch

    class Bank(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.banks = {c: images.float() / 127.5 - 1 for c, images in banks.items()}
            self.cursor = Counter()
            self.anchor = torch.nn.Parameter(torch.zeros(1))  # generate_per_class asks for a device

        def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            out = []
            for c in y.tolist():
                bank = self.banks[c]
                out.append(bank[self.cursor[c] % len(bank)])
                self.cursor[c] += 1
            return torch.stack(out)

    return Bank()


def trial(
    images: np.ndarray,
    labels: np.ndarray,
    n: int,
    small: tuple[int, ...],
    n_major: int,
    samples: int,
    seed: int,
    work: Path,
) -> dict:
    """One folder, one evaluator, four bank generators; each set's gate decision for the small classes."""
    import torch

    from augment_gan.data import load_image_folder
    from augment_gan.evaluation.config import EvalConfig
    from augment_gan.evaluation.evaluate import RunEvaluator
    from augment_gan.evaluation.gate import GateThresholds, apply_gate
    from augment_gan.nets import NetConfig
    from augment_gan.pipeline import train
    from augment_gan.run import Run

    rng = np.random.default_rng(seed)
    folder_idx, fresh_idx = {}, {}
    for d in range(10):
        idx = rng.permutation(np.flatnonzero(labels == d))
        size = n if d in small else n_major
        folder_idx[d], fresh_idx[d] = idx[:size].tolist(), idx[size : size + samples].tolist()
    write_folder(work / "data", images, folder_idx)
    write_folder(work / "fresh", images, fresh_idx)
    net = {"g_width": 4, "d_width": 4, "latent_dim": 8}
    run_dir = train(
        work / "data",
        "calibration",
        models_dir=work / "models",
        net=net,
        train={"steps": 1, "batch_size": 4, "checkpoint_every": 1, "seed": seed},
    ).run_dir
    run = Run.open(run_dir, progress=False)
    evaluator = RunEvaluator(run, EvalConfig(samples_per_class=samples, seed=seed))
    fresh = load_image_folder(work / "fresh", resolution=32, channels=1, progress=False)
    classes = [int(c) for c in run.data.classes]
    fresh_by = {c: fresh.images[fresh.labels == fresh.classes.index(str(c))] for c in classes}
    train_idx = run.split[0]
    train_by = {c: run.data.images[train_idx][run.data.labels[train_idx] == i] for i, c in enumerate(classes)}
    banks = {
        "real": fresh_by,
        "collapsed": {c: x[:1] for c, x in fresh_by.items()},
        "copies": train_by,
        "another class": {c: fresh_by[(c + 1) % 10] for c in classes},
    }
    net_cfg = NetConfig(num_classes=10, resolution=32, channels=1, **net)
    out = {}
    for name, bank in banks.items():
        torch.manual_seed(seed)
        report = evaluator.evaluate(make_bank_generator(bank), net_cfg, step=1)
        calibrated = apply_gate(report, GateThresholds())["per_class"]
        fixed = apply_gate(report, GateThresholds(calibrated=False))["per_class"]
        out[name] = {
            str(c): {
                "calibrated": calibrated[str(c)],
                "fixed_passed": fixed[str(c)]["passed"],
                "n_reference": report["classes"][str(c)]["n_reference"],
                "band_source": (report["classes"][str(c)].get("band") or {}).get("source"),
            }
            for c in classes
        }
    return out


def summarise(trials: list[dict], small_of: list[tuple[int, ...]]) -> dict:
    """Pass rates of the small classes (and, apart, the big ones), per set."""
    summary = {}
    for name in SETS:
        for part in ("small", "big"):
            passed = fixed = total = 0
            failing: Counter = Counter()
            for result, small in zip(trials, small_of):
                for c, r in result[name].items():
                    if (int(c) in small) != (part == "small"):
                        continue
                    total += 1
                    passed += r["calibrated"]["passed"]
                    fixed += r["fixed_passed"]
                    failing.update({reason.split()[0] for reason in r["calibrated"]["reasons"]})
            lo, hi = wilson(passed, total)
            summary[f"{name}/{part}"] = {
                "classes": total,
                "pass_rate": passed / max(total, 1),
                "ci95": [lo, hi],
                "fixed_pass_rate": fixed / max(total, 1),
                "failing_metrics": dict(failing.most_common()),
            }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist", type=Path, default=common.DEFAULT_MNIST)
    parser.add_argument("--sizes", type=int, nargs="+", help="small-class sizes (default 10 15 30 100)")
    parser.add_argument("--trials", type=int, help="trials per size (3 small classes each; default 6)")
    parser.add_argument("--n-major", type=int, help="images of each big class (default 200)")
    parser.add_argument("--samples", type=int, help="samples per class (default: EvalConfig's)")
    parser.add_argument("--out", type=Path, default=None, help="default results/gate_calibration[-quick].json")
    args = common.parse_args(parser, PRESETS)
    budget = common.budget(args, PRESETS[args.preset])
    from augment_gan.evaluation.config import EvalConfig

    samples = budget["samples"] or EvalConfig.samples_per_class
    out = args.out or common.default_out("gate_calibration", args.preset)
    images, labels = load_mnist(args.mnist)
    clock = common.Clock()
    result = {
        "benchmark": "gate_calibration",
        "command": common.command_line(),
        "preset": args.preset,
        "quick": args.quick,
        "n_major": budget["n_major"],
        "samples_per_class": samples,
        "trials_per_size": budget["trials"],
        **common.provenance(),
        "sizes": {},
    }
    for n in budget["sizes"]:
        trials, small_of = [], []
        for t in range(budget["trials"]):
            small = tuple(sorted({(t + k * 3) % 10 for k in range(3)}))
            with tempfile.TemporaryDirectory(prefix="gate-cal-") as tmp:
                s0 = time.perf_counter()
                trials.append(
                    trial(images, labels, n, small, budget["n_major"], samples, seed=1000 * n + t, work=Path(tmp))
                )
            small_of.append(small)
            real = sum(trials[-1]["real"][str(c)]["calibrated"]["passed"] for c in small)
            clock.log(f"n={n} trial {t} (small {small}): real passes {real}/3 ({time.perf_counter() - s0:.0f}s)")
        # the JSON keeps each trial's decisions for its small classes only (the summary counts all)
        kept = [
            {name: {c: r for c, r in by_class.items() if int(c) in small} for name, by_class in t.items()}
            for t, small in zip(trials, small_of)
        ]
        result["sizes"][str(n)] = {"summary": summarise(trials, small_of), "small_classes": small_of, "trials": kept}
        common.save(out.with_suffix(".partial.json"), result)  # what a killed run had finished
        for key, s in result["sizes"][str(n)]["summary"].items():
            print(
                f"  n={n:<4} {key:20s} pass {s['pass_rate']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}] "
                f"of {s['classes']}; fixed thresholds {s['fixed_pass_rate']:.3f}; failing {s['failing_metrics']}",
                flush=True,
            )
    result["seconds"] = round(clock.elapsed(), 1)
    common.save(out, result)
    out.with_suffix(".partial.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
