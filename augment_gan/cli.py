"""The ``augment-gan`` command line: thin commands that call the library and print."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from augment_gan.errors import AugmentGanError

JUDGE_STEPS = 400  # EvalConfig's default; literal here so `--help` needs no torch import

app = typer.Typer(
    name="augment-gan",
    help="Train a class-conditional GAN on an image folder, gate it per class, and use it "
    "to balance the folder.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

RunDir = Annotated[Path, typer.Argument(help="Run dir: MODELS_DIR/NAME/runs/RUN_ID.", show_default=False)]
GateFile = Annotated[Optional[Path], typer.Option(help="TOML file of gate thresholds (keys as the options below).")]
MaxFid = Annotated[Optional[float], typer.Option(help="Gate: max per-class FID (classes with >= 50 reference images).")]
MaxKid = Annotated[Optional[float], typer.Option(help="Gate: max per-class KID.")]
MinPrecision = Annotated[Optional[float], typer.Option(help="Gate: min per-class precision.")]
MinRecall = Annotated[Optional[float], typer.Option(help="Gate: min per-class recall.")]
MinCoverage = Annotated[Optional[float], typer.Option(help="Gate: min per-class coverage.")]
MinConsistency = Annotated[Optional[float], typer.Option(help="Gate: min class consistency (judge agrees).")]
MaxCopyRate = Annotated[Optional[float], typer.Option(help="Gate: max share of memorised copies.")]
JudgeSteps = Annotated[int, typer.Option(help="Training steps of the domain judge (cached per dataset split).")]
MaxOverallFid = Annotated[Optional[float], typer.Option(help="Gate: max overall FID.")]
DataDir = Annotated[Path, typer.Argument(help="Image folder: one sub-folder per class.", show_default=False)]
ModelsDir = Annotated[Path, typer.Option(help="Root of run dirs and model dirs.")]


@contextmanager
def user_errors() -> Iterator[None]:
    """Errors the user can fix become one line on stderr and exit code 1; bugs still raise."""
    try:
        yield
    except AugmentGanError as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _thresholds(gate_file: Optional[Path], **overrides: Optional[float]):
    from augment_gan.evaluation.gate import GateThresholds

    base = GateThresholds.from_toml(gate_file) if gate_file else GateThresholds()
    return base.with_overrides(**overrides)


@app.command()
def inspect(
    data_dir: DataDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    strict: Annotated[bool, typer.Option(help="Fail if any file would be skipped.")] = False,
) -> None:
    """Class counts, imbalance, image sizes and modes, and every skipped file with its reason."""
    from augment_gan.data import format_summary_table, load_image_folder, summarize

    with user_errors():
        data = load_image_folder(data_dir, strict=strict, progress=not as_json)
        report = summarize(data)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        console.print(format_summary_table(report))


@app.command()
def train(
    data_dir: DataDir,
    name: Annotated[str, typer.Option(help="Model name: runs go to MODELS_DIR/NAME/runs/.")],
    models_dir: ModelsDir = Path("models"),
    steps: Annotated[int, typer.Option(help="Total generator steps.")] = 2000,
    batch_size: Annotated[int, typer.Option(help="Images per D and G step.")] = 64,
    resolution: Annotated[int, typer.Option(help="Training resolution: 32 or 64.")] = 32,
    channels: Annotated[str, typer.Option(help="auto, 1 or 3 (auto: 1 when every image is gray).")] = "auto",
    loss: Annotated[str, typer.Option(help="hinge, ns, wgan-gp or lsgan.")] = "hinge",
    seed: Annotated[int, typer.Option(help="Seed for weights, batches and noise.")] = 0,
    checkpoint_every: Annotated[int, typer.Option(help="Checkpoint and sample grid every N steps.")] = 500,
    resume: Annotated[bool, typer.Option(help="Continue the latest run of NAME from its newest checkpoint.")] = False,
    lr_g: Annotated[float, typer.Option(help="Generator learning rate.")] = 2e-4,
    lr_d: Annotated[float, typer.Option(help="Discriminator learning rate.")] = 2e-4,
    n_critic: Annotated[int, typer.Option(help="D steps per G step (5 is usual for wgan-gp).")] = 2,
    ema_decay: Annotated[float, typer.Option(help="Decay of the generator's EMA copy.")] = 0.999,
    diffaugment: Annotated[str, typer.Option(help="DiffAugment policy, or 'none'.")] = "color,translation,cutout",
    label_smoothing: Annotated[float, typer.Option(help="One-sided label smoothing (ns loss only).")] = 0.0,
    mode_seeking: Annotated[float, typer.Option(help="Weight of the mode-seeking term against a class collapsing to one image (0: off).")] = 0.0,
    class_balance: Annotated[float, typer.Option(help="Draw real images with weight n_class ** -B: 1 draws every class equally often, 0 every image.")] = 1.0,
    g_width: Annotated[int, typer.Option(help="Generator width (channels of the last block).")] = 32,
    d_width: Annotated[int, typer.Option(help="Discriminator width (channels of the first block).")] = 32,
    latent_dim: Annotated[int, typer.Option(help="Size of the noise vector z.")] = 128,
    holdout: Annotated[float, typer.Option(help="Share of each class held out of training for evaluation.")] = 0.1,
    strict: Annotated[bool, typer.Option(help="Fail if any file would be skipped.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    eval_every: Annotated[int, typer.Option(help="Evaluate and gate every N steps (a multiple of --checkpoint-every; 0: off).")] = 0,
    eval_samples: Annotated[int, typer.Option(help="Generated samples per class for --eval-every.")] = 500,
    judge_steps: JudgeSteps = JUDGE_STEPS,
    gate_file: GateFile = None,
    precision: Annotated[str, typer.Option(help="auto, fp32 or bf16 (auto: bf16 autocast on a CUDA GPU that has it).")] = "auto",
    channels_last: Annotated[Optional[bool], typer.Option(help="channels_last memory format (default: on with CUDA).", show_default=False)] = None,
    nproc_per_node: Annotated[int, typer.Option(help="Re-launch through torchrun with N processes per node (DDP; N GPUs, or CPU processes).")] = 0,
    nnodes: Annotated[str, typer.Option(help="torchrun --nnodes: machines in the job (run the same command on each).")] = "1",
    rdzv_endpoint: Annotated[Optional[str], typer.Option(help="torchrun rendezvous HOST:PORT (any one node) for --nnodes > 1.")] = None,
) -> None:
    """Train a class-conditional GAN on DATA_DIR; writes a run dir with checkpoints and grids.

    Runs on several GPUs or machines when launched by torchrun, or with --nproc-per-node."""
    import sys

    from augment_gan.training import pick_device
    from augment_gan.training.distributed import (
        init_distributed, launched_by_torchrun, relaunch_train, shutdown_distributed,
    )
    from augment_gan.training.run import load_run_data, make_trainer

    with user_errors():
        if nproc_per_node and not launched_by_torchrun():
            code, interrupted = relaunch_train(sys.argv, nproc_per_node, nnodes, rdzv_endpoint)
            if interrupted:
                err_console.print("interrupted: the workers checkpointed their last finished step; "
                                  "continue with --resume (any number of processes).")
                raise typer.Exit(130)
            raise typer.Exit(code)
        dist, dev = init_distributed(pick_device(device))
        finished = False
        try:
            if not dist.is_main:  # one voice: rank 0 prints, the others only report errors
                console.quiet = True
            run_dir, data = None, None
            if dist.is_main:
                run_dir, data = _start_or_resume_run(
                    data_dir, name, models_dir, resume, strict, channels, resolution,
                    net=dict(latent_dim=latent_dim, g_width=g_width, d_width=d_width),
                    train=dict(steps=steps, batch_size=batch_size, loss=loss, lr_g=lr_g, lr_d=lr_d, n_critic=n_critic,
                               ema_decay=ema_decay, diffaugment=diffaugment, label_smoothing=label_smoothing, mode_seeking=mode_seeking,
                               class_balance=class_balance,
                               holdout_fraction=holdout, seed=seed, checkpoint_every=checkpoint_every),
                )
            run_dir = Path(dist.broadcast(str(run_dir)))
            if data is None:  # other ranks: the folder rank 0 just loaded (and cached)
                data = load_run_data(run_dir, strict=strict, progress=False)
            trainer = make_trainer(
                run_dir, data, steps=steps if resume else None, device=dev, dist=dist, precision=precision,
                channels_last=dev.type == "cuda" if channels_last is None else channels_last,
            )
            start = trainer.resume() if resume else 0
            hook = None
            if eval_every and dist.is_main:
                from augment_gan.evaluation.evaluate import EvalConfig

                eval_cfg = EvalConfig(samples_per_class=eval_samples, judge_steps=judge_steps, seed=seed)
                hook = _eval_hook(run_dir, data, trainer, eval_every, _thresholds(gate_file), eval_cfg)
            _train_with_report(trainer, run_dir, start, hook)
            if hook is not None:
                _print_best(run_dir)
            finished = True
        finally:
            shutdown_distributed(synchronize=finished)


def _start_or_resume_run(data_dir: Path, name: str, models_dir: Path, resume: bool, strict: bool, channels: str,
                         resolution: int, net: dict, train: dict):
    """(run dir, loaded folder): the latest run of NAME when resuming, else a new run dir."""
    from augment_gan.training.run import resume_latest_run, start_run

    if resume:
        run_dir, data = resume_latest_run(models_dir, name, data_dir, strict=strict)
    else:
        run_dir, data = start_run(models_dir, name, data_dir, channels=channels, resolution=resolution, strict=strict,
                                  net=net, train=train)
    if data.skipped:
        err_console.print(f"[yellow]warning:[/] skipped {len(data.skipped)} unusable file(s); "
                          f"`augment-gan inspect {data_dir}` lists them with reasons.")
    return run_dir, data


def _eval_hook(run_dir: Path, data, trainer, every: int, thresholds, eval_cfg):
    from augment_gan.evaluation.evaluate import RunEvaluator
    from augment_gan.evaluation.runs import EvalDuringTraining

    if every <= 0 or every % trainer.cfg.checkpoint_every:
        from augment_gan.errors import ConfigError

        raise ConfigError(f"--eval-every ({every}) must be a positive multiple of --checkpoint-every "
                          f"({trainer.cfg.checkpoint_every}): evaluation runs on checkpoints.")
    console.print("training the domain judge for evaluation (once per dataset split, then cached)...")
    evaluator = RunEvaluator(run_dir, eval_cfg, data=data)
    console.print(f"judge accuracy on held-out real images: {evaluator.judge_report['accuracy']:.3f} "
                  f"(n={evaluator.judge_report['n']})", highlight=False)
    return EvalDuringTraining(evaluator, thresholds, every, trainer.cfg.checkpoint_every)


def _print_best(run_dir: Path) -> None:
    best = json.loads((run_dir / "eval" / "best.json").read_text())
    console.print(f"best checkpoint: step {best['step']} ({best['classes_passing']} classes pass the gate); "
                  f"promote it with `augment-gan promote {run_dir}`.", highlight=False)


def _train_with_report(trainer, run_dir: Path, start: int, on_checkpoint=None) -> None:
    from augment_gan.training import TrainingInterrupted

    counts = trainer.labels.bincount(minlength=trainer.net_cfg.num_classes).tolist()
    d, cfg = trainer.dist, trainer.cfg
    console.print(
        f"run dir [bold]{run_dir}[/]\n"
        f"training on {len(trainer.labels)} images in {trainer.net_cfg.num_classes} classes "
        f"(per class {counts}), {trainer.net_cfg.resolution}x{trainer.net_cfg.resolution}, "
        f"{trainer.net_cfg.channels} channel(s), device {trainer.device}, {trainer.precision}"
        + (", channels_last" if trainer.channels_last else "")
        + (f", resuming at step {start}" if start else ""),
        highlight=False,
    )
    if d.enabled:
        console.print(f"distributed: {d.world_size} processes ({d.backend}); batch {cfg.batch_size} per step = "
                      f"{d.world_size} x {cfg.batch_size // d.world_size} per process; lr G {cfg.lr_g:g}, D {cfg.lr_d:g} "
                      "(the batch and learning rates do not change with the number of processes)", highlight=False)
    t0 = time.perf_counter()
    try:
        trainer.fit(progress=True, on_checkpoint=on_checkpoint)
    except TrainingInterrupted as e:
        err_console.print(f"interrupted: checkpoint saved at step {e.step}; continue with --resume.")
        raise typer.Exit(130) from None
    elapsed = time.perf_counter() - t0
    done = trainer.step - start
    console.print(
        f"trained {done} steps in {elapsed:.0f} s ({done / max(elapsed, 1e-9):.2f} steps/s); "
        f"samples: {run_dir / 'samples' / f'step-{trainer.step:07d}.png'}",
        highlight=False,
    )


def _print_eval_table(report: dict) -> None:
    from rich.table import Table

    gate = report.get("gate")
    table = Table(title=f"step {report['step']}: per-class metrics ({report['features']} features)", title_justify="left")
    for col in ("class", "n ref", "FID", "KID", "P", "R", "cover", "consist", "copies", "gate"):
        table.add_column(col, justify="left" if col in ("class", "gate") else "right")

    def f(v):
        return "–" if v is None else f"{v:.3g}"

    for name, r in report["classes"].items():
        verdict = ""
        if gate:
            verdict = "[green]pass[/]" if gate["per_class"][name]["passed"] else "[red]fail[/]"
        ref = f"{r['n_reference']}" + ("" if r["reference"] == "holdout" else "*")
        table.add_row(name, ref, f(r["fid"]), f(r["kid"]), f(r["precision"]), f(r["recall"]), f(r["coverage"]),
                      f(r["class_consistency"]), f(r["copy_rate"]), verdict)
    console.print(table)
    console.print("n ref: real images compared against (* = all real images of the class, too few held out); "
                  "the gate skips FID below 50.", style="dim")
    for name, g in (gate or {}).get("per_class", {}).items():
        if not g["passed"]:
            console.print(f"  [red]{name}[/]: " + "; ".join(g["reasons"]), highlight=False)
    o, j = report["overall"], report["judge"]
    console.print(f"overall: FID {f(o['fid'])}, KID {f(o['kid'])} ± {f(o['kid_std'])}, P {f(o['precision'])}, "
                  f"R {f(o['recall'])} (n={o['n_real']} real, {o['n_fake']} generated); judge accuracy on held-out "
                  f"real images {f(j['accuracy'])} (n={j['n']}); {report['classes'][name]['n_fake']} samples per class.",
                  highlight=False)


@app.command()
def evaluate(
    run_dir: RunDir,
    checkpoint: Annotated[str, typer.Option(help="latest, all, or a step number.")] = "latest",
    features: Annotated[str, typer.Option(help="domain (a classifier trained on your data) or inception.")] = "domain",
    samples: Annotated[int, typer.Option(help="Generated samples per class.")] = 500,
    inception_weights: Annotated[Optional[Path], typer.Option(help="pt_inception-2015-12-05-6726825d.pth (for --features inception).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    judge_steps: JudgeSteps = JUDGE_STEPS,
    gate_file: GateFile = None,
    max_fid: MaxFid = None, max_kid: MaxKid = None, min_precision: MinPrecision = None, min_recall: MinRecall = None, min_coverage: MinCoverage = None,
    min_consistency: MinConsistency = None, max_copy_rate: MaxCopyRate = None, max_overall_fid: MaxOverallFid = None,
) -> None:
    """Measure checkpoints per class (FID, KID, precision/recall, density/coverage, consistency, copies)."""
    from augment_gan.evaluation.evaluate import EvalConfig, RunEvaluator
    from augment_gan.evaluation.runs import evaluate_steps, write_run_report

    with user_errors():
        thresholds = _thresholds(gate_file, max_fid=max_fid, max_kid=max_kid, min_precision=min_precision,
                                 min_recall=min_recall, min_coverage=min_coverage, min_class_consistency=min_consistency,
                                 max_copy_rate=max_copy_rate, max_overall_fid=max_overall_fid)
        cfg = EvalConfig(features=features, samples_per_class=samples, judge_steps=judge_steps,
                         inception_weights=str(inception_weights) if inception_weights else None)
        evaluator = RunEvaluator(run_dir, cfg, progress=not as_json)
        reports = evaluate_steps(evaluator, checkpoint, thresholds)
        report_path = write_run_report(run_dir, reports[-1], reports[-1]["gate"], evaluator.data)
    if as_json:
        typer.echo(json.dumps(reports if len(reports) > 1 else reports[0], indent=2))
        return
    for report in reports:
        _print_eval_table(report)
    console.print(f"report: {report_path}", highlight=False)


@app.command()
def promote(
    run_dir: RunDir,
    checkpoint: Annotated[str, typer.Option(help="best (by the gate, see eval/best.json) or a step number.")] = "best",
    gate_file: GateFile = None,
    max_fid: MaxFid = None, max_kid: MaxKid = None, min_precision: MinPrecision = None, min_recall: MinRecall = None, min_coverage: MinCoverage = None,
    min_consistency: MinConsistency = None, max_copy_rate: MaxCopyRate = None, max_overall_fid: MaxOverallFid = None,
) -> None:
    """Apply the gate to an evaluated checkpoint; if any class passes, export it and write a model dir."""
    from augment_gan.evaluation.runs import write_run_report
    from augment_gan.promote import PromotionRejected, load_eval, promote_checkpoint, resolve_step

    with user_errors():
        thresholds = _thresholds(gate_file, max_fid=max_fid, max_kid=max_kid, min_precision=min_precision,
                                 min_recall=min_recall, min_coverage=min_coverage, min_class_consistency=min_consistency,
                                 max_copy_rate=max_copy_rate, max_overall_fid=max_overall_fid)
        step = resolve_step(run_dir, checkpoint)
        from augment_gan.evaluation.gate import apply_gate

        report = load_eval(run_dir, step)
        report["gate"] = apply_gate(report, thresholds)
        _print_eval_table(report)
        write_run_report(run_dir, report, report["gate"])
        try:
            model_dir, decision = promote_checkpoint(run_dir, step, thresholds)
        except PromotionRejected as e:
            err_console.print(f"[bold red]not promoted:[/] no class of step {e.step} passed the gate; "
                              f"see {run_dir / 'report.html'}.", highlight=False)
            raise typer.Exit(1) from None
    passed = decision["passed_classes"]
    console.print(f"promoted step {step} to [bold]{model_dir}[/] ({len(passed)} of {len(decision['per_class'])} "
                  f"classes pass: {', '.join(passed)})", highlight=False)


@app.command()
def export(
    run_dir: RunDir,
    out: Annotated[Path, typer.Option(help="New (or empty) folder for the model dir.")],
    checkpoint: Annotated[str, typer.Option(help="latest or a step number.")] = "latest",
) -> None:
    """Export a checkpoint to ONNX without the gate (experts); its card says the gate was not run."""
    from augment_gan.export.onnx_export import export_checkpoint
    from augment_gan.contracts.model_dir import write_model_dir
    from augment_gan.training.checkpoint import resolve_checkpoint
    from augment_gan.contracts.run_dir import read_run_config

    with user_errors():
        config = read_run_config(run_dir)
        step, path = resolve_checkpoint(run_dir, checkpoint)
        onnx_bytes, fields = export_checkpoint(path, config, name=config["name"], version=f"export-{step}")
        card = {**fields, "version": f"export-{step}", "gate": {"ran": False},
                "source": {"run_dir": str(Path(run_dir).resolve()), "step": step, "checkpoint": str(path.resolve())}}
        model_dir = write_model_dir(None, config["name"], {"generator.onnx": onnx_bytes}, card, out_dir=out)
    console.print(f"exported step {step} to {model_dir} (ungated: consumers refuse it unless --allow-ungated).",
                  highlight=False)


@app.command()
def augment(
    data_dir: DataDir,
    model: Annotated[str, typer.Option(help="Model dir, or a model name under --models-dir (its PROMOTED version).",
                                       show_default=False)],
    models_dir: ModelsDir = Path("models"),
    target: Annotated[str, typer.Option(help="max (the largest class's real count), N (at least N images per "
                                             "class) or ratio:R (at least R x the largest class).")] = "max",
    classes: Annotated[Optional[str], typer.Option(help="Comma-separated classes to fill (default: all).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the synthetic files and their manifest here, in the same "
                                                     "class layout, and leave DATA_DIR untouched.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="png or jpg.")] = "png",
    size: Annotated[str, typer.Option(help="native (each class's median real image size) or model (the "
                                           "generator's resolution).")] = "native",
    seed: Annotated[int, typer.Option(help="Noise seed; file i of class c always gets the same image.")] = 0,
    max_share: Annotated[Optional[float], typer.Option(help="Cap each class's synthetic files at this share of its "
                                                            "images (real + synthetic), e.g. 0.25.")] = None,
    allow_ungated: Annotated[bool, typer.Option(help="Use a model exported without the quality gate (every "
                                                     "class, unchecked).")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the plan and write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan (and summary) as JSON.")] = False,
    batch_size: Annotated[int, typer.Option(help="Images generated per batch.")] = 64,
) -> None:
    """Fill DATA_DIR's small classes with gated synthetic images; re-runs top up, `clean` undoes."""
    import signal

    from augment_gan.augment import AugmentInterrupted, Augmentation

    with user_errors():
        job = Augmentation.prepare(
            data_dir, model, models_dir=models_dir, target=target,
            classes=None if classes is None else classes.split(","), out=out, fmt=fmt, size=size, seed=seed,
            max_share=max_share, allow_ungated=allow_ungated, batch_size=batch_size,
        )
        plan = job.plan
        if as_json:  # stdout stays pure JSON; the warnings still show on stderr
            for w in plan.warnings:
                err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
        else:
            _print_augment_plan(plan, dry_run)
        if dry_run:
            if as_json:
                typer.echo(json.dumps({"dry_run": True, "plan": plan.to_dict()}, indent=2))
            return
        previous = signal.getsignal(signal.SIGTERM)

        def _terminate(signum, frame):  # `kill` flushes the manifest like Ctrl-C
            raise KeyboardInterrupt

        try:
            signal.signal(signal.SIGTERM, _terminate)
        except ValueError:  # not the main thread
            previous = None
        try:
            summary = _run_augment(job, show_progress=not as_json and err_console.is_terminal)
        except AugmentInterrupted as e:
            err_console.print(f"interrupted: {e.written} file(s) written, all recorded in {e.manifest}; "
                              "run the same command again to continue.", highlight=False)
            raise typer.Exit(130) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    if as_json:
        typer.echo(json.dumps({"dry_run": False, "plan": plan.to_dict(), "summary": summary.to_dict()}, indent=2))
        return
    _print_augment_summary(summary)


def _run_augment(job, show_progress: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if not show_progress or not job.plan.to_generate:
        return job.run()
    columns = (TextColumn("generating {task.fields[cls]}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("augment", total=job.plan.to_generate, cls="")
        return job.run(on_file=lambda cls, path: progress.update(task, advance=1, cls=cls))


def _print_augment_plan(plan, dry_run: bool) -> None:
    from rich.table import Table

    where = f"into {plan.out_dir} (DATA_DIR untouched)" if plan.out_dir != plan.data_dir else f"into {plan.data_dir}"
    title = (f"{'dry run: ' if dry_run else ''}plan: target {plan.target} = {plan.target_count} per class, "
             f"model {plan.model} v{plan.model_version}, seed {plan.seed}, {plan.format} {where}")
    table = Table(title=title, title_justify="left")
    for col in ("class", "real", "synthetic", "target", "generate", "share", "output", "skipped / note"):
        table.add_column(col, justify="right" if col in ("real", "synthetic", "target", "generate", "share") else "left")
    for c in plan.classes:
        share = f"{c.share_after:.0%}"
        share = f"[yellow]{share}[/]" if c.share_after > 0.5 else share
        output = f"{c.size[0]}x{c.size[1]} {c.mode}" if c.size and c.generate else ""
        why = f"[red]{c.skipped}[/]" if c.skipped else (c.note or "")
        table.add_row(c.name, str(c.real), str(c.synthetic), str(c.target), str(c.generate), share, output, why)
    console.print(table)
    if plan.adoptable:
        console.print(f"{len(plan.adoptable)} file(s) an interrupted run wrote match this run: adopted into the manifest.",
                      highlight=False)
    for w in plan.warnings:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    if dry_run:
        console.print(f"dry run: {plan.to_generate} file(s) would be written; nothing was.", highlight=False)


def _print_augment_summary(summary) -> None:
    plan = summary.plan
    d = summary.to_dict()
    shares = ", ".join(f"{name} {c['synthetic']}/{c['real'] + c['synthetic']} ({c['share']:.0%})"
                       for name, c in d["classes"].items() if c["synthetic"])
    done = (f"wrote {summary.total} file(s) in {summary.seconds:.1f} s" if plan.to_generate
            else "nothing to write: every class has what the plan asks for")
    console.print(done + (f"; synthetic per class: {shares}" if shares else "") + f"; manifest {plan.manifest_path}",
                  highlight=False)
    if summary.collisions:
        err_console.print(f"[yellow]warning:[/] {summary.collisions} file name(s) appeared on disk meanwhile; "
                          "they were left as they are and the next indices used.", highlight=False)
    if any(c.share_after > 0.5 for c in plan.classes):
        err_console.print("[yellow]warning:[/] some classes are now more than half synthetic (see above); "
                          "consider --max-share or BalancedDataset.", highlight=False)
    console.print(f"undo with `augment-gan clean {plan.out_dir}`.", highlight=False)


@app.command()
def clean(
    data_dir: Annotated[Path, typer.Argument(help="The folder augment wrote into (DATA_DIR, or its --out).",
                                             show_default=False)],
    dry_run: Annotated[bool, typer.Option(help="List what would be removed; remove nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Remove the generated files augment recorded, except ones edited since (kept and listed)."""
    from augment_gan.augment import clean_folder

    with user_errors():
        result = clean_folder(data_dir, dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    if not result.had_manifest:
        console.print(f"no augment manifest in {result.root}: nothing to clean.", highlight=False)
    else:
        console.print(f"{verb} {len(result.removed)} generated file(s) from {result.root}.", highlight=False)
    if result.kept_edited:
        err_console.print(f"[yellow]kept[/] {len(result.kept_edited)} generated file(s) edited since they were written "
                          f"(still listed in the manifest, so they stay out of real counts): "
                          + ", ".join(result.kept_edited), highlight=False, soft_wrap=True)
    if result.kept_other:
        err_console.print(f"[yellow]kept[/] {len(result.kept_other)} listed path(s) that are not plain generated files: "
                          + ", ".join(result.kept_other), highlight=False, soft_wrap=True)
    if result.gone:
        console.print(f"{len(result.gone)} listed file(s) were already gone: " + ", ".join(result.gone),
                      highlight=False, soft_wrap=True)
    if result.unrecorded:
        err_console.print(f"[yellow]left[/] {len(result.unrecorded)} synthetic-named file(s) the manifest does not "
                          "list (delete them by hand if unwanted): " + ", ".join(result.unrecorded),
                          highlight=False, soft_wrap=True)
    if result.had_manifest:
        what = {"removed": "deleted", "rewritten": "rewritten to list only the kept files"}[result.manifest]
        console.print(f"manifest {'would be ' if dry_run else ''}{what}.", highlight=False)


@app.command()
def serve(
    model: Annotated[Optional[str], typer.Option(
        help="Model dir, or a model name under --models-dir (its PROMOTED version). Default: the only promoted model.",
        show_default=False)] = None,
    models_dir: ModelsDir = Path("models"),
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 listens on every interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP port.")] = 3000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads its own copy of the model).")] = 1,
    threads: Annotated[Optional[int], typer.Option(min=1, help="onnxruntime threads per worker [default: cores / workers].",
                                                   show_default=False)] = None,
    allow_ungated: Annotated[bool, typer.Option("--allow-ungated", help="Serve a model dir written by `augment-gan export` (no quality gate).")] = False,
) -> None:
    """Serve a model over HTTP (BentoML): POST /generate, /generate_grid, /generate_batch; GET /model."""
    from augment_gan.serve import serve as serve_model

    def announce(plan) -> None:
        console.print(f"serving {plan.model_dir} on {plan.url} ({plan.workers} worker{'s' if plan.workers > 1 else ''}); "
                      "Ctrl-C stops.", highlight=False)

    with user_errors():
        rc = serve_model(model, models_dir, host=host, port=port, workers=workers, threads=threads,
                         allow_ungated=allow_ungated, on_start=announce)
    raise typer.Exit(rc)


@app.command()
def demo(
    models_dir: ModelsDir = Path("models"),
    steps: Annotated[int, typer.Option(help="Training steps for the demo run.")] = 400,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
) -> None:
    """Run the main job end to end on scikit-learn's handwritten digits, made imbalanced:
    train, evaluate, gate, promote, then balance a copy of the folder."""
    from augment_gan.demo import demo as run_demo

    with user_errors():
        t0 = time.perf_counter()
        result = run_demo(models_dir, steps, seed, console)
    console.rule("done")
    console.print(f"whole demo: {time.perf_counter() - t0:.0f} s. Sample grids: {result.run_dir / 'samples'}; "
                  f"report: {result.run_dir / 'report.html'}"
                  + (f"; model dir: {result.model_dir}" if result.model_dir else ""), highlight=False)


if __name__ == "__main__":  # `python -m augment_gan.cli` (e.g. under torchrun)
    app()
