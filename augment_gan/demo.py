"""The end-to-end demo on the embedded digits: the whole pipeline on a folder made imbalanced."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from augment_gan.data import scan_folder
from augment_gan.data.digits import write_digits_folder
from augment_gan.evaluation.config import EvalConfig
from augment_gan.pipeline.options import Balance, Events, TrainEval
from augment_gan.run.train_config import TrainConfig

if TYPE_CHECKING:
    from augment_gan.pipeline.job import PipelineResult

# Small enough to finish in a few minutes on 2 CPU cores, big enough for clean digits.
DEMO_NET = dict(g_width=16, d_width=16)
DEMO_TRAIN = dict(batch_size=64)  # the library defaults otherwise (one D step, no DiffAugment)
DEMO_EVAL_SAMPLES = 200
DEMO_MAX_SHARE = 0.25


def demo(models_dir: Path, steps: int = 600, seed: int = 0, events: Events | None = None) -> PipelineResult:
    """Write the imbalanced digits folder, run the pipeline on it (evaluating step 0 and the
    last step), and balance a copy of the folder; reports as it goes through ``events``."""
    from augment_gan.pipeline.job import balance_folder, run  # the whole job: imported when it runs

    events = events or Events()
    models_dir = Path(models_dir)
    folder = models_dir / "demo-data" / "digits-imbalanced"
    write_digits_folder(folder, seed=seed)
    train = TrainConfig(steps=steps, checkpoint_every=max(steps // 3, 1), seed=seed, **DEMO_TRAIN)
    evaluation = TrainEval(config=EvalConfig(samples_per_class=DEMO_EVAL_SAMPLES, seed=seed), step0=True)
    result = run(
        folder, "digits", models_dir=models_dir, net=DEMO_NET, train=train, evaluation=evaluation, events=events
    )
    if result.model_dir is None:
        return result
    copy = models_dir / "demo-data" / f"digits-augmented-{result.run_dir.name}"
    events.stage(f"4. balance a copy of the folder (target max, synthetic share capped at {DEMO_MAX_SHARE:.0%})")
    balance_folder(result, Balance(max_share=DEMO_MAX_SHARE, copy_to=copy, seed=seed))
    real = _count(scan_folder(copy).files, result.data.classes)
    total = _count(scan_folder(copy, include_synthetic=True).files, result.data.classes)
    events.note(f"{copy}: wrote {result.balanced.total} files")
    for c in result.data.classes:
        added = total[c] - real[c]
        events.note(
            f"  class {c}: {real[c]:4d} real -> {total[c]:4d} images"
            + (f" ({added} synthetic, {added / total[c]:.0%})" if added else "")
        )
    events.note(
        "undo with `augment-gan clean` on that folder; train on it with a class-balanced sampler "
        "(or use BalancedDataset) rather than filling classes to the top."
    )
    return result


def _count(files, classes: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(classes, 0)
    for entry in files:
        counts[entry.class_name] += 1
    return counts
