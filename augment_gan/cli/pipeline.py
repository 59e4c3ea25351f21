"""``run`` and ``demo``: the whole job, the commands of :func:`augment_gan.pipeline.run` and
:func:`augment_gan.demo.demo`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from augment_gan.cli.options import (
    BALANCE,
    DataDir,
    EvalSamples,
    JudgeSteps,
    ModelsDir,
    Name,
    defaults,
    gate_options,
    opt,
)
from augment_gan.cli.printing import console, err_console, styled
from augment_gan.cli.training import Channels, ConsoleEvents, placement_options, run_training_options
from augment_gan.contracts.run_dir import RunDir
from augment_gan.demo import demo as demo_job
from augment_gan.evaluation.config import EvalConfig
from augment_gan.evaluation.gate import GateThresholds
from augment_gan.pipeline.options import MODELS_DIR, Placement

DEMO = defaults(demo_job)


@gate_options
@placement_options
@run_training_options
def run(
    ctx: typer.Context,
    data_dir: DataDir,
    name: Name,
    models_dir: ModelsDir = MODELS_DIR,
    channels: Channels = "auto",
    eval_every: Annotated[
        int,
        opt(
            "Evaluate and gate every N steps (a multiple of --checkpoint-every) and at the last step; "
            "0: at every checkpoint. Each class is promoted from its best evaluated step."
        ),
    ] = 0,
    eval_samples: EvalSamples = EvalConfig.samples_per_class,
    judge_steps: JudgeSteps = EvalConfig.judge_steps,
    out: Annotated[
        Optional[Path],
        opt(
            "Balance into this folder: the synthetic files and their manifest, in DATA_DIR's "
            "class layout (DATA_DIR untouched). Without it nothing is balanced.",
            show_default=False,
        ),
    ] = BALANCE.out,
    target: Annotated[str, opt("With --out: max, N or ratio:R (as `augment --target`).")] = BALANCE.target,
    max_share: Annotated[Optional[float], opt("With --out: cap each class's synthetic share.")] = BALANCE.max_share,
    *,
    net: dict[str, Any],
    train: dict[str, Any],
    strict: bool,
    placement: Placement,
    gate: GateThresholds,
) -> None:
    """The whole job on DATA_DIR: train, evaluate, promote each class's best step; --out DIR also balances into DIR.

    Takes every training option `train` takes, device and processes included; training stops
    after --minutes (default 9) at the step reached, and `augment-gan resume` continues it."""
    from augment_gan import pipeline
    from augment_gan.run import TrainConfig

    cfg = TrainConfig(**train)
    evaluation = pipeline.TrainEval(
        eval_every, EvalConfig(samples_per_class=eval_samples, judge_steps=judge_steps), gate
    )
    balance = None if out is None else pipeline.Balance(target=target, max_share=max_share, out=out, seed=cfg.seed)
    result = pipeline.run(
        data_dir,
        name,
        models_dir=models_dir,
        net=net,
        train=cfg,
        channels=channels,
        strict=strict,
        evaluation=evaluation,
        placement=placement,
        balance=balance,
        events=ConsoleEvents(data_dir, summary=True),
    )
    if isinstance(result, pipeline.Relaunched):
        raise typer.Exit(130 if result.interrupted else result.exit_code)
    if result is None:  # another rank of a torchrun job: rank 0 reports
        return
    console.rule("done")
    if result.model_dir is None:
        err_console.print(
            styled(
                "not promoted:",
                "bold red",
                f" no class passed the gate at any evaluated step; see {RunDir(result.run_dir).report_path}.",
            ),
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if result.balanced is not None:
        console.print(
            f"wrote {result.balanced.total} synthetic file(s) into {result.balanced_dir} ({data_dir} "
            f"untouched); undo with `augment-gan clean {result.balanced_dir}`.",
            highlight=False,
            soft_wrap=True,
        )
        return
    share = "" if max_share is None else f" --max-share {max_share:g}"
    console.print(
        f"model dir {result.model_dir}; balance the folder with `augment-gan augment {data_dir} --model "
        f"{result.model_dir}{share} --out DIR` (or without --out, into {data_dir} itself).",
        highlight=False,
        soft_wrap=True,
    )


def demo(
    models_dir: ModelsDir = MODELS_DIR,
    steps: Annotated[int, opt("Training steps for the demo run.")] = DEMO.steps,
    seed: Annotated[int, opt("Seed.")] = DEMO.seed,
) -> None:
    """Run the main job end to end on scikit-learn's handwritten digits, made imbalanced:
    train, evaluate, gate, promote, then balance a copy of the folder."""
    t0 = time.perf_counter()
    result = demo_job(models_dir, steps, seed, ConsoleEvents(summary=True))
    console.rule("done")
    run_dir = RunDir(result.run_dir)
    console.print(
        f"whole demo: {time.perf_counter() - t0:.0f} s. Sample grids: {run_dir.samples_dir}; "
        f"report: {run_dir.report_path}" + (f"; model dir: {result.model_dir}" if result.model_dir else ""),
        highlight=False,
    )
