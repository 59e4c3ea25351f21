"""How checkpoints are evaluated (``EvalConfig``), with no torch: the CLI takes its defaults here."""

from __future__ import annotations

from dataclasses import dataclass


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
    # The domain judge's training steps: JudgeConfig.steps (evaluation/domain.py, which
    # imports torch); tests/pipeline/test_options.py keeps the two equal.
    judge_steps: int = 400
