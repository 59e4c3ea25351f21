"""The shapes of the JSON documents stages hand each other: keys defined once, type-checked.

- :class:`EvalReport` is ``eval/step-XXXXXXX.json`` in a run dir (one per evaluated checkpoint),
  with a :class:`ClassRecord` per class and, once gated, its :class:`GateDecision`;
- :class:`ModelCard` is ``card.json`` in a model dir: what every consumer reads.

They are ``TypedDict`` s, so the files stay plain JSON (old run dirs and model dirs load
unchanged) while code that builds or reads them is checked against one definition.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class ClassRecord(TypedDict):
    """One class's metrics in one evaluation; every number travels with its sample size."""

    n_train: int
    n_holdout: int
    n_fake: int
    n_reference: int
    reference: Literal[
        "holdout", "judge-unseen", "all-real", "given"
    ]  # what the samples were compared with ("all-real": older reports; "given": measure()'s real images)
    fid: float
    kid: float
    kid_std: float
    n_pr: int  # samples per side for precision/recall/density/coverage
    precision: float | None  # None: too few reference images to compute
    recall: float | None
    density: float | None
    coverage: float | None
    spread: NotRequired[float | None]  # samples' mean pairwise distance / the real images' (older reports: absent)
    nearest_class: NotRequired[
        float | None
    ]  # share of samples whose nearest real image is the class's (None: one class)
    copy_rate: float | None  # None: fewer than two training images
    copy_threshold: float  # the ratio (older reports: a distance)
    copy_reference: Literal["ratio", "holdout", "train-leave-one-out"]  # the last two: older reports
    class_consistency: float | None  # share of the class's samples the judge assigns to the class (None: no judge)
    judge_confidence: NotRequired[float]  # the judge's mean probability for the class, over its samples
    band: NotRequired[dict[str, Any] | None]  # real-vs-real band (evaluation/calibration.py); None: too few images


class OverallRecord(TypedDict):
    fid: float
    kid: float
    kid_std: float
    precision: float
    recall: float
    density: float
    coverage: float
    class_consistency: float
    copy_rate: float
    judge_is: NotRequired[float]  # Inception Score in the judge's classes (at most the class count)
    inception_score: NotRequired[float]  # with --features inception: IS beside FID
    inception_score_std: NotRequired[float]
    n_real: int
    n_fake: int


class JudgeRecord(TypedDict):
    """The domain judge's accuracy on real images it did not train on."""

    accuracy: float
    n: int
    per_class: dict[str, Any]


class ClassDecision(TypedDict):
    passed: bool
    reasons: list[str]  # empty when passed; else one "metric value > threshold (n=…)" each
    warnings: NotRequired[list[str]]  # metrics that cannot tell at this size, not gated
    calibrated: NotRequired[bool]  # judged against real-vs-real bands
    checks_run: NotRequired[list[str]]  # the metrics the verdict rests on
    not_run: NotRequired[list[str]]  # "metric: why" for each check the class is too small for
    utility: NotRequired[str]  # the utility check's verdict: helps / hurts / tie / untested
    step: NotRequired[int]  # the evaluated step the class was judged (and is generated) at


class GateDecision(TypedDict):
    ran: Literal[True]
    step: int
    thresholds: dict[str, float | bool]
    overall: ClassDecision
    per_class: dict[str, ClassDecision]
    passed_classes: list[str]
    utility: NotRequired[dict[str, Any]]  # promote's utility check: config, macro_f1_change, per_class (by name)


class NoGate(TypedDict):
    """The gate of a model written by ``augment-gan export``: it did not run."""

    ran: Literal[False]


class EvalReport(TypedDict):
    step: int
    features: str  # "domain" or an extractor's name
    config: dict[str, Any]  # the EvalConfig it was made with
    judge: JudgeRecord
    overall: OverallRecord
    classes: dict[str, ClassRecord]
    seconds: float
    gate: NotRequired[GateDecision]
    steps: NotRequired[dict[str, int]]  # a routed model's step per class (evaluation/checkpoints.routed_report)


class ModelCard(TypedDict):
    format: int
    name: str
    version: int | str  # k of v<k>; "export-<step>" for an ungated export
    created: str
    classes: list[str]
    resolution: int
    channels: int
    latent_dim: int
    gate: GateDecision | NoGate
    source: dict[str, Any]  # run dir, step, checkpoint (and data root and key when promoted)
    files: dict[str, dict[str, Any]]  # file name -> {"sha256", "bytes"}
    onnx_opset: NotRequired[int]
    parity_max_diff: NotRequired[float]  # largest pixel difference ONNX vs PyTorch at export
    metrics: NotRequired[dict[str, Any]]  # features, judge, overall, per_class (promoted models)
    selection: NotRequired[dict[str, Any]]  # per-sample selection: its settings and, per class, acceptance etc.
