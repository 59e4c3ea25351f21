"""The end-to-end demo on the embedded digits: folder -> train -> evaluate -> promote -> augment."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from augment_gan.augment import augment_folder
from augment_gan.data import format_summary_table, load_image_folder, scan_folder, summarize
from augment_gan.data.digits import write_digits_folder
from augment_gan.evaluation.evaluate import EvalConfig, RunEvaluator
from augment_gan.evaluation.gate import GateThresholds
from augment_gan.evaluation.runs import EvalDuringTraining, best_step, load_reports, write_run_report
from augment_gan.nets import NetConfig
from augment_gan.promote import PromotionRejected, promote_checkpoint
from augment_gan.training import TrainConfig
from augment_gan.training.run import make_trainer, new_run

# Small enough to finish in a few minutes on 2 CPU cores, big enough for clean digits.
DEMO_NET = dict(g_width=16, d_width=16)
DEMO_TRAIN = dict(n_critic=2, batch_size=64)
DEMO_EVAL_SAMPLES = 200
DEMO_MAX_SHARE = 0.25


@dataclass
class DemoResult:
    data_dir: Path
    run_dir: Path
    model_dir: Path | None
    seconds: dict[str, float] = field(default_factory=dict)


def run_demo(models_dir: Path, steps: int, seed: int, console: Console) -> DemoResult:
    """Run every stage, printing as it goes; returns where everything landed."""
    models_dir = Path(models_dir)
    times: dict[str, float] = {}
    folder = models_dir / "demo-data" / "digits-imbalanced"
    write_digits_folder(folder, seed=seed)

    console.rule("1. the imbalanced folder")
    data = load_image_folder(folder)
    console.print(format_summary_table(summarize(data)))

    console.rule("2. train the class-conditional GAN (evaluated at step 0 and at the end)")
    net_cfg = NetConfig(num_classes=len(data.classes), channels=data.channels, **DEMO_NET)
    cfg = TrainConfig(steps=steps, checkpoint_every=max(steps // 3, 1), seed=seed, **DEMO_TRAIN)
    run_dir = new_run(models_dir, "digits", data, net_cfg, cfg)
    trainer = make_trainer(run_dir, data)
    t0 = time.perf_counter()
    evaluator = RunEvaluator(run_dir, EvalConfig(samples_per_class=DEMO_EVAL_SAMPLES, seed=seed), data=data)
    times["judge"] = time.perf_counter() - t0
    thresholds = GateThresholds()
    hook = EvalDuringTraining(evaluator, thresholds, every=steps, checkpoint_every=1)
    t0 = time.perf_counter()
    trainer.fit(progress=True, on_checkpoint=hook)
    times["train+eval"] = time.perf_counter() - t0
    console.print(f"run dir {run_dir}; sample grids in {run_dir / 'samples'}", highlight=False)

    console.rule("3. evaluate and gate, per class")
    reports = {r["step"]: r for r in load_reports(run_dir)}
    for step in sorted(reports):
        passed = reports[step]["gate"]["passed_classes"]
        console.print(f"step {step}: {len(passed)} of {len(data.classes)} classes pass the gate", highlight=False)
    step = best_step(run_dir)
    write_run_report(run_dir, reports[step], reports[step]["gate"], data)
    console.print(f"report (samples beside real images, curves, the gate table): {run_dir / 'report.html'}",
                  highlight=False)

    console.rule("4. promote")
    try:
        model_dir, decision = promote_checkpoint(run_dir, step, thresholds)
    except PromotionRejected as e:
        console.print(f"[red]nothing promoted:[/] no class of step {e.step} passed the gate.")
        return DemoResult(folder, run_dir, None, times)
    console.print(f"promoted step {step} to {model_dir}: classes {', '.join(decision['passed_classes'])} pass",
                  highlight=False)

    console.rule(f"5. balance a copy of the folder (target max, synthetic share capped at {DEMO_MAX_SHARE:.0%})")
    augmented = models_dir / "demo-data" / f"digits-augmented-{run_dir.name}"
    shutil.copytree(folder, augmented)
    before = scan_folder(augmented).files
    summary = augment_folder(augmented, model_dir, target="max", max_share=DEMO_MAX_SHARE, seed=seed)
    counts = {c: 0 for c in data.classes}
    for entry in before:
        counts[entry.class_name] += 1
    synthetic = {c: 0 for c in data.classes}
    for entry in scan_folder(augmented, include_synthetic=True).files:
        synthetic[entry.class_name] += 1
    console.print(f"{augmented}: wrote {sum(summary.written.values())} files", highlight=False)
    for c in data.classes:
        added = synthetic[c] - counts[c]
        console.print(f"  class {c}: {counts[c]:4d} real -> {synthetic[c]:4d} images"
                      + (f" ({added} synthetic, {added / synthetic[c]:.0%})" if added else ""), highlight=False)
    console.print("undo with `augment-gan clean` on that folder; train on it with a class-balanced sampler "
                  "(or use BalancedDataset) rather than filling classes to the top.")
    return DemoResult(folder, run_dir, model_dir, times)
