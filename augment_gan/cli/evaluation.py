"""``evaluate``, ``promote`` and ``export``: the commands of :func:`augment_gan.pipeline.evaluate`,
:func:`~augment_gan.pipeline.promote` and :func:`~augment_gan.pipeline.export`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from augment_gan.cli.options import EVAL, JudgeSteps, RunDirArg, gate_options, opt
from augment_gan.cli.printing import console, err_console, print_eval_table, styled
from augment_gan.evaluation.gate import GateThresholds


@gate_options
def evaluate(
    run_dir: RunDirArg,
    checkpoint: Annotated[str, opt("latest, all, or a step number.")] = "latest",
    features: Annotated[str, opt("domain (a classifier trained on your data) or inception.")] = EVAL.features,
    samples: Annotated[int, opt("Generated samples per class.")] = EVAL.samples_per_class,
    inception_weights: Annotated[
        Optional[Path], opt("pt_inception-2015-12-05-6726825d.pth (for --features inception).")
    ] = EVAL.inception_weights,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    judge_steps: JudgeSteps = EVAL.judge_steps,
    *,
    gate: GateThresholds,
) -> None:
    """Measure checkpoints per class (FID, KID, precision/recall, density/coverage, consistency, copies)."""
    from augment_gan import pipeline
    from augment_gan.evaluation.config import EvalConfig

    cfg = EvalConfig(
        features=features,
        samples_per_class=samples,
        judge_steps=judge_steps,
        inception_weights=str(inception_weights) if inception_weights else None,
    )
    result = pipeline.evaluate(run_dir, checkpoint, evaluation=cfg, thresholds=gate, progress=not as_json)
    if as_json:
        typer.echo(json.dumps(result.reports if len(result.reports) > 1 else result.reports[0], indent=2))
        return
    for report in result.reports:
        print_eval_table(report)
    console.print(f"report: {result.report_path}", highlight=False)


@gate_options
def promote(
    run_dir: RunDirArg,
    checkpoint: Annotated[
        str, opt("best (each class at its best evaluated step, by the gate), latest or a step number.")
    ] = "best",
    utility: Annotated[
        bool,
        opt(
            "Run the utility check: a class whose selected samples make a small classifier "
            "significantly worse on held-out real images fails (about a minute on 2 CPU cores "
            "for 10 classes)."
        ),
    ] = True,
    *,
    gate: GateThresholds,
) -> None:
    """Apply the gate to an evaluated checkpoint; if any class passes, export it and write a model dir."""
    from augment_gan import pipeline

    result = pipeline.promote(run_dir, checkpoint, thresholds=gate, utility=utility)
    print_eval_table(result.report)
    if result.model_dir is None:
        err_console.print(
            styled(
                "not promoted:",
                "bold red",
                f" no class passed the gate at {_where(result.report)}; see {result.report_path}.",
            ),
            highlight=False,
        )
        raise typer.Exit(1)
    passed = result.decision["passed_classes"]
    console.print(
        Text.assemble(
            f"promoted {_where(result.report)} to ",
            (str(result.model_dir), "bold"),
            f" ({len(passed)} of {len(result.decision['per_class'])} classes pass: {', '.join(passed)})",
        )
    )


def _where(report: dict) -> str:
    """'step 2000', or each class's step for a model routed over several."""
    steps = report.get("steps")
    if not steps:
        return f"step {report['step']}"
    return "each class's best step (" + ", ".join(f"{name}: {step}" for name, step in steps.items()) + ")"


def export(
    run_dir: RunDirArg,
    out: Annotated[Path, opt("New (or empty) folder for the model dir.")],
    checkpoint: Annotated[str, opt("latest or a step number.")] = "latest",
) -> None:
    """Export a checkpoint to ONNX without the gate (experts); its card says the gate was not run."""
    from augment_gan import pipeline

    result = pipeline.export(run_dir, out, checkpoint)
    console.print(
        f"exported step {result.step} to {result.model_dir} (ungated: consumers refuse it unless --allow-ungated).",
        highlight=False,
    )
