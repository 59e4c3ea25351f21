"""The whole job in one call: image folder -> trained, evaluated, gated, promoted model (-> balanced folder).

Each stage reads what the previous one wrote, as the stages do when run one by one from
the command line (``train``, ``evaluate``, ``promote``, ``augment``); this function only
chains them, so ``augment-gan run``, the demo and the benchmarks train, judge and promote
exactly as a user does.

Example::

    from augment_gan.pipeline import Balance, run
    from augment_gan.training import TrainConfig

    result = run("data/train", "pets", train=TrainConfig(steps=2000), balance=Balance(out="data/synthetic"))
    result.model_dir, result.decision["passed_classes"], result.balanced.written
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from augment_gan.augment import AugmentSummary, augment_folder
from augment_gan.contracts.model_dir import read_card
from augment_gan.contracts.run_dir import RunDir
from augment_gan.data import ImageData, format_summary_table, load_image_folder, summarize
from augment_gan.errors import ConfigError
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.evaluate import RunEvaluator
from augment_gan.evaluation.gate import GateThresholds
from augment_gan.evaluation.runs import EvalDuringTraining, best_step, load_reports, write_run_report
from augment_gan.evaluation.utility import UtilityConfig
from augment_gan.nets import NetConfig
from augment_gan.pipeline.fit import with_live_log
from augment_gan.pipeline.options import MODELS_DIR, Balance
from augment_gan.promote import PromotionRejected, promote_checkpoint
from augment_gan.training import TrainConfig
from augment_gan.training.live_log import check_live_log, open_live_log
from augment_gan.training.run import make_trainer, new_run


@dataclass
class PipelineResult:
    """Where everything landed, and the decisions made on the way."""

    data: ImageData
    run_dir: Path
    reports: dict[int, dict[str, Any]]  # evaluated step -> its report, gate decision included
    best_step: int
    model_dir: Path | None  # None: no class of the best step passed the gate
    balanced_dir: Path | None = None
    balanced: AugmentSummary | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def decision(self) -> dict[str, Any]:
        """The gate decision of the best step."""
        return self.reports[self.best_step]["gate"]


def run(
    data_dir: str | Path,
    name: str,
    *,
    models_dir: str | Path = MODELS_DIR,
    net: dict[str, Any] | None = None,
    train: TrainConfig = TrainConfig(),
    evaluation: EvalConfig = EvalConfig(),
    thresholds: GateThresholds = GateThresholds(),
    eval_every: int | None = None,
    eval_step0: bool = False,
    balance: Balance | None = None,
    console: Console | None = None,
    utility: bool | UtilityConfig = True,
    log: str = "none",
) -> PipelineResult:
    """Load ``data_dir``, train a run of ``name``, evaluate and gate it, promote the best step,
    and (with ``balance``) fill the folder's small classes.

    ``net``: NetConfig fields other than those the folder decides (classes, channels).
    ``eval_every``: evaluate every N steps (a multiple of ``train.checkpoint_every``) and at
    the last step; None: at the last step only. ``eval_step0`` also evaluates the untrained
    step 0 (a reference point that always fails the gate). ``console``: print each stage.
    ``utility``: promote's utility check (True: the default config; False skips it).
    ``log``: live training logs, ``none`` or ``tensorboard`` (in the run dir; the extra).
    """
    check_live_log(log)
    say = console or Console(quiet=True)
    seconds: dict[str, float] = {}
    models_dir = Path(models_dir)

    say.rule("1. the folder")
    resolution = (net or {}).get("resolution", NetConfig.resolution)
    data = load_image_folder(data_dir, resolution=resolution, progress=console is not None)
    say.print(format_summary_table(summarize(data)))

    say.rule("2. train the class-conditional GAN, evaluating as it goes")
    net_cfg = NetConfig(num_classes=len(data.classes), channels=data.channels, **(net or {}))
    run_dir = new_run(models_dir, name, data, net_cfg, train)
    trainer = make_trainer(run_dir, data)
    t0 = time.perf_counter()
    evaluator = RunEvaluator(run_dir, evaluation, data=data)  # trains (or loads) the domain judge
    seconds["judge"] = time.perf_counter() - t0
    hook = _evaluation_hook(evaluator, thresholds, train, eval_every, eval_step0)
    t0 = time.perf_counter()
    trainer.live_log = open_live_log(log, run_dir, data.classes)
    try:
        trainer.fit(progress=console is not None, on_checkpoint=with_live_log(hook, trainer.live_log))
    finally:
        if trainer.live_log is not None:
            trainer.live_log.close()
    seconds["train+eval"] = time.perf_counter() - t0
    say.print(Text(f"run dir {run_dir}; sample grids in {RunDir(run_dir).samples_dir}"))

    say.rule("3. pick the best checkpoint by the gate")
    reports = {r["step"]: r for r in load_reports(run_dir)}
    for s in sorted(reports):
        passed = reports[s]["gate"]["passed_classes"]
        say.print(
            Text(
                f"step {s}: {len(passed)} of {len(data.classes)} classes pass the gate"
                + (f" ({', '.join(passed)})" if passed else "")
            )
        )
    step = best_step(run_dir)
    t0 = time.perf_counter()
    write_run_report(run_dir, reports[step], reports[step]["gate"], data)
    seconds["report"] = time.perf_counter() - t0
    say.print(Text(f"report (samples beside real images, curves, the gate table): {RunDir(run_dir).report_path}"))
    result = PipelineResult(data, run_dir, reports, step, None, seconds=seconds)

    say.rule("4. promote: export the gated generator to ONNX")
    t0 = time.perf_counter()
    try:
        result.model_dir, decision = promote_checkpoint(run_dir, step, thresholds, utility=utility)
    except PromotionRejected as e:
        reports[step]["gate"] = e.decision  # with the utility check's verdicts, when it ran
        say.print(Text.assemble(("nothing promoted:", "red"), f" no class of step {e.step} passed the gate."))
        return result
    finally:
        seconds["promote"] = time.perf_counter() - t0
    say.print(Text(f"promoted step {step} to {result.model_dir}: classes {', '.join(decision['passed_classes'])} pass"))
    reports[step]["gate"] = decision
    say.print(Text(promotion_summary(result.model_dir, decision)))
    if balance is not None:
        say.rule(f"5. balance the folder (target {balance.target}, synthetic share capped at {balance.max_share})")
        balance_folder(result, balance)
    return result


def balance_folder(result: PipelineResult, balance: Balance) -> PipelineResult:
    """Stage 5 for a run that promoted a model: fill the folder's small classes (see :class:`Balance`)."""
    if result.model_dir is None:
        raise ConfigError(f"run {result.run_dir} promoted no model: there is nothing to balance with.")
    t0 = time.perf_counter()
    target_dir = Path(result.data.root)
    if balance.copy_to is not None:
        shutil.copytree(target_dir, balance.copy_to)
        target_dir = Path(balance.copy_to)
    result.balanced = augment_folder(
        target_dir,
        result.model_dir,
        target=balance.target,
        out=balance.out,
        max_share=balance.max_share,
        seed=balance.seed,
    )
    result.balanced_dir = Path(balance.out) if balance.out is not None else target_dir
    result.seconds["balance"] = time.perf_counter() - t0
    return result


def _evaluation_hook(
    evaluator: RunEvaluator, thresholds: GateThresholds, train: TrainConfig, eval_every: int | None, eval_step0: bool
):
    """The ``on_checkpoint`` callback that evaluates and gates the chosen steps."""
    if eval_every is None:  # the last step only (and step 0 when asked)
        hook = EvalDuringTraining(evaluator, thresholds, every=max(train.steps, 1), checkpoint_every=1)
    else:
        hook = EvalDuringTraining(evaluator, thresholds, every=eval_every, checkpoint_every=train.checkpoint_every)

    def on_checkpoint(trainer) -> dict[str, Any] | None:
        """The report, when this step was evaluated."""
        return hook(trainer) if trainer.step > 0 or eval_step0 else None

    return on_checkpoint


def promotion_summary(model_dir: Path, decision: dict) -> str:
    """Two lines: per-sample selection's acceptance range and the utility check's verdicts."""
    card = read_card(Path(model_dir))
    rates = [e["acceptance"] for e in card.get("selection", {}).get("per_class", {}).values()]
    lines = []
    if rates:
        lines.append(
            f"per-sample selection keeps {min(rates):.0%}-{max(rates):.0%} of candidates per class "
            f"(accepted beside rejected: {Path(model_dir) / 'selection.png'})"
        )
    effects: dict[str, list[str]] = {}
    for name, entry in decision.get("utility", {}).get("per_class", {}).items():
        effects.setdefault(entry["effect"], []).append(name)
    if effects:
        lines.append(
            "utility check (classifier with vs without the samples, held-out images): "
            + "; ".join(f"{effect} {', '.join(names)}" for effect, names in sorted(effects.items()))
        )
    return "\n".join(lines)
