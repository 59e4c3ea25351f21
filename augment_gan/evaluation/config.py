"""How checkpoints are evaluated (``EvalConfig``), with no torch: the CLI takes its defaults here."""

from __future__ import annotations

from dataclasses import dataclass

JUDGE_STEPS = 400  # the domain judge's training steps (JudgeConfig's default too)


@dataclass(frozen=True)
class EvalConfig:
    features: str = "domain"
    samples_per_class: int = 500
    min_holdout_reference: int = 50
    min_holdout_copy: int = 5
    kid_subsets: int = 50
    kid_subset_size: int = 1000
    pr_k: int = 3
    dc_k: int = 5
    copy_percentile: float = 1.0
    seed: int = 0
    inception_weights: str | None = None
    judge_steps: int = JUDGE_STEPS
