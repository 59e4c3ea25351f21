"""How checkpoints are evaluated (``EvalConfig``), with no torch: the CLI takes its defaults here."""

from __future__ import annotations

from dataclasses import dataclass

from augment_gan.run.spec import EVAL_SAMPLES, JUDGE_STEPS


@dataclass(frozen=True)
class EvalConfig:
    features: str = "domain"
    samples_per_class: int = EVAL_SAMPLES
    min_holdout_reference: int = 50
    kid_subsets: int = 50
    kid_subset_size: int = 1000
    pr_k: int = 3
    dc_k: int = 5
    copy_ratio: float = 0.5  # a sample nearer a training image than this x its own nearest real: a copy
    seed: int = 0
    inception_weights: str | None = None
    judge_steps: int = JUDGE_STEPS
    # Real-vs-real bands (calibration.py): draws per class (0: none, the gate uses its fixed
    # thresholds alone), and the share of real sets the bands may reject, all metrics together.
    band_draws: int = 100
    band_false_rejection: float = 0.03
