"""``augment``, ``clean`` and ``serve``: the consumers of a model dir, the commands of
:func:`augment_gan.augment.augment`, :func:`augment_gan.augment.clean` and :func:`augment_gan.service.serve`."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from augment_gan.cli.options import AUGMENT, SERVE, DataDir, ModelsDir
from augment_gan.cli.printing import console, err_console, styled, warn
from augment_gan.events import Events


def augment(
    data_dir: DataDir,
    model: Annotated[
        str,
        typer.Option(help="Model dir, or a model name under --models-dir (its PROMOTED version).", show_default=False),
    ],
    models_dir: ModelsDir = Path(AUGMENT.models_dir),
    target: Annotated[
        str,
        typer.Option(
            help="max (the largest class's real count), N (at least N images per "
            "class) or ratio:R (at least R x the largest class)."
        ),
    ] = AUGMENT.target,
    classes: Annotated[Optional[str], typer.Option(help="Comma-separated classes to fill (default: all).")] = (
        AUGMENT.classes
    ),
    out: Annotated[
        Optional[Path],
        typer.Option(
            help="Write the synthetic files and their manifest here, in the same "
            "class layout, and leave DATA_DIR untouched."
        ),
    ] = AUGMENT.out,
    fmt: Annotated[str, typer.Option("--format", help="png or jpg.")] = AUGMENT.fmt,
    size: Annotated[
        str, typer.Option(help="native (each class's median real image size) or model (the generator's resolution).")
    ] = AUGMENT.size,
    seed: Annotated[int, typer.Option(help="Noise seed; file i of class c always gets the same image.")] = AUGMENT.seed,
    max_share: Annotated[
        Optional[float],
        typer.Option(
            help="Cap each class's synthetic files at this share of its images (real + synthetic), e.g. 0.25."
        ),
    ] = (AUGMENT.max_share),
    allow_ungated: Annotated[
        bool, typer.Option(help="Use a model exported without the quality gate (every class, unchecked).")
    ] = AUGMENT.allow_ungated,
    select: Annotated[
        bool,
        typer.Option(
            help="Per-sample selection: keep only samples the judge assigns to "
            "their class, that copy no training image and lie in the real "
            "data's support (when the model dir has a judge)."
        ),
    ] = AUGMENT.select,
    follow_links: Annotated[
        bool,
        typer.Option(help="Also write into class folders that are symlinks resolving outside DATA_DIR (or --out)."),
    ] = AUGMENT.follow_links,
    dry_run: Annotated[bool, typer.Option(help="Print the plan and write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan (and summary) as JSON.")] = False,
    batch_size: Annotated[int, typer.Option(help="Images generated per batch.")] = AUGMENT.batch_size,
) -> None:
    """Fill DATA_DIR's small classes with gated synthetic images; re-runs top up, `clean` undoes."""
    from augment_gan import augment as stage

    shown = AugmentProgress(dry_run, as_json)
    try:
        with _sigterm_as_ctrl_c(), shown:
            summary = stage.augment(
                data_dir,
                model,
                dry_run=dry_run,
                events=shown,
                models_dir=models_dir,
                target=target,
                classes=None if classes is None else classes.split(","),
                out=out,
                fmt=fmt,
                size=size,
                seed=seed,
                max_share=max_share,
                allow_ungated=allow_ungated,
                batch_size=batch_size,
                select=select,
                follow_links=follow_links,
            )
    except stage.AugmentInterrupted as e:
        err_console.print(
            f"interrupted: {e.written} file(s) written, all recorded in {e.manifest}; "
            "run the same command again to continue.",
            highlight=False,
        )
        raise typer.Exit(130) from None
    if as_json:
        done = {} if summary is None else {"summary": summary.to_dict()}
        typer.echo(json.dumps({"dry_run": dry_run, "plan": shown.shown.to_dict(), **done}, indent=2))
    elif summary is not None:
        _print_augment_summary(summary)


class AugmentProgress(Events):
    """``augment``'s events: the plan (a table; with --json only its warnings, on stderr, so
    stdout stays pure JSON), then a progress bar while the files are written."""

    def __init__(self, dry_run: bool, as_json: bool) -> None:
        self.dry_run, self.as_json = dry_run, as_json
        self.shown: Any = None
        self._bar: Any = None

    def planned(self, plan: Any) -> None:
        self.shown = plan
        if self.as_json:
            for w in plan.warnings:
                warn(w)
        else:
            _print_augment_plan(plan, self.dry_run)
        if not (self.dry_run or self.as_json) and err_console.is_terminal and plan.to_generate:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (
                TextColumn("generating {task.fields[cls]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            self._bar = Progress(*columns, console=err_console, transient=True)
            self._task = self._bar.add_task("augment", total=plan.to_generate, cls="")
            self._bar.start()

    def wrote(self, cls: str, path: Path) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, cls=cls)

    def __enter__(self) -> AugmentProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """``kill`` flushes the manifest like Ctrl-C (where signals can be handled: the main thread)."""

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _print_augment_plan(plan, dry_run: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    where = f"into {plan.out_dir} (DATA_DIR untouched)" if plan.out_dir != plan.data_dir else f"into {plan.data_dir}"
    title = (
        f"{'dry run: ' if dry_run else ''}plan: target {plan.target} = {plan.target_count} per class, "
        f"model {plan.model} v{plan.model_version}, seed {plan.seed}, {plan.format} {where}"
    )
    table = Table(title=title, title_justify="left")
    for col in ("class", "real", "synthetic", "target", "generate", "share", "output", "skipped / note"):
        table.add_column(
            col, justify="right" if col in ("real", "synthetic", "target", "generate", "share") else "left"
        )
    for c in plan.classes:
        share = f"{c.share_after:.0%}"
        share = Text(share, "yellow") if c.share_after > 0.5 else share
        output = f"{c.size[0]}x{c.size[1]} {c.mode}" if c.size and c.generate else ""
        why = Text(c.skipped, "red") if c.skipped else (c.note or "")
        table.add_row(c.name, str(c.real), str(c.synthetic), str(c.target), str(c.generate), share, output, why)
    console.print(table)
    if plan.adoptable:
        console.print(
            f"{len(plan.adoptable)} file(s) an interrupted augment wrote match this one: adopted into the manifest.",
            highlight=False,
        )
    for w in plan.warnings:
        warn(w)
    if dry_run:
        console.print(f"dry run: {plan.to_generate} file(s) would be written; nothing was.", highlight=False)


def _print_augment_summary(summary) -> None:
    plan = summary.plan
    d = summary.to_dict()
    shares = ", ".join(
        f"{name} {c['synthetic']}/{c['real'] + c['synthetic']} ({c['share']:.0%})"
        for name, c in d["classes"].items()
        if c["synthetic"]
    )
    done = (
        f"wrote {summary.total} file(s) in {summary.seconds:.1f} s"
        if plan.to_generate
        else "nothing to write: every class has what the plan asks for"
    )
    console.print(
        done + (f"; synthetic per class: {shares}" if shares else "") + f"; manifest {plan.manifest_path}",
        highlight=False,
    )
    if summary.selection and summary.selection["candidates"]:
        s = summary.selection
        console.print(
            f"per-sample selection kept {s['accepted']} of {s['candidates']} candidates "
            f"({s['accepted'] / s['candidates']:.0%})"
            + (f"; {s['fallbacks']} file(s) are the least-bad of 16 candidates" if s["fallbacks"] else ""),
            highlight=False,
        )
    if summary.collisions:
        warn(
            f"{summary.collisions} file name(s) appeared on disk meanwhile; they were left as they are and the "
            "next indices used."
        )
    if any(c.share_after > 0.5 for c in plan.classes):
        warn("some classes are now more than half synthetic (see above); consider --max-share or BalancedDataset.")
    console.print(f"undo with `augment-gan clean {plan.out_dir}`.", highlight=False)


def clean(
    data_dir: Annotated[
        Path, typer.Argument(help="The folder augment wrote into (DATA_DIR, or its --out).", show_default=False)
    ],
    dry_run: Annotated[bool, typer.Option(help="List what would be removed; remove nothing.")] = False,
    follow_links: Annotated[
        bool, typer.Option(help="Also remove files in class folders that are symlinks resolving outside the folder.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Remove the generated files augment recorded, except ones edited since (kept and listed)."""
    from augment_gan import augment as stage

    result = stage.clean(data_dir, dry_run=dry_run, follow_links=follow_links)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    if not result.had_manifest:
        console.print(f"no augment manifest in {result.root}: nothing to clean.", highlight=False)
    else:
        console.print(f"{verb} {len(result.removed)} generated file(s) from {result.root}.", highlight=False)
    if result.kept_edited:
        err_console.print(
            styled(
                "kept",
                "yellow",
                f" {len(result.kept_edited)} generated file(s) edited since they "
                "were written (still listed in the manifest, so they stay out of real counts): "
                + ", ".join(result.kept_edited),
            ),
            highlight=False,
            soft_wrap=True,
        )
    if result.kept_other:
        err_console.print(
            styled(
                "kept",
                "yellow",
                f" {len(result.kept_other)} listed path(s) that are not plain generated files inside "
                "the folder (one behind a symlink out of it needs --follow-links): " + ", ".join(result.kept_other),
            ),
            highlight=False,
            soft_wrap=True,
        )
    if result.gone:
        console.print(
            f"{len(result.gone)} listed file(s) were already gone: " + ", ".join(result.gone),
            highlight=False,
            soft_wrap=True,
        )
    if result.unrecorded:
        err_console.print(
            styled(
                "left",
                "yellow",
                f" {len(result.unrecorded)} synthetic-named file(s) the manifest "
                "does not list (delete them by hand if unwanted): " + ", ".join(result.unrecorded),
            ),
            highlight=False,
            soft_wrap=True,
        )
    if result.had_manifest:
        what = {"removed": "deleted", "rewritten": "rewritten to list only the kept files"}[result.manifest]
        console.print(f"manifest {'would be ' if dry_run else ''}{what}.", highlight=False)


def serve(
    model: Annotated[
        Optional[str],
        typer.Option(
            help="Model dir, or a model name under --models-dir (its PROMOTED version). Default: the only promoted model.",
            show_default=False,
        ),
    ] = SERVE.model,
    models_dir: ModelsDir = SERVE.models_dir,
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 listens on every interface.")] = SERVE.host,
    port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP port.")] = SERVE.port,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads its own copy of the model).")] = (
        SERVE.workers
    ),
    threads: Annotated[
        Optional[int],
        typer.Option(min=1, help="onnxruntime threads per worker (default: cores / workers).", show_default=False),
    ] = SERVE.threads,
    allow_ungated: Annotated[
        bool,
        typer.Option("--allow-ungated", help="Serve a model dir written by `augment-gan export` (no quality gate)."),
    ] = SERVE.allow_ungated,
    select: Annotated[bool, typer.Option(help="Per-sample selection (when the model dir has a judge).")] = SERVE.select,
    token_file: Annotated[
        Optional[Path],
        typer.Option(
            help="Require 'Authorization: Bearer <token>' (the file's one line) on the generation and model endpoints.",
            show_default=False,
        ),
    ] = SERVE.token_file,
) -> None:
    """Serve a model over HTTP (BentoML): POST /generate, /generate_grid, /generate_batch; GET /model."""
    from augment_gan.service.launch import serve as serve_model

    def announce(plan) -> None:
        console.print(
            f"serving {plan.model_dir} on {plan.url} ({plan.workers} worker{'s' if plan.workers > 1 else ''}); "
            "Ctrl-C stops.",
            highlight=False,
        )

    rc = serve_model(
        model,
        models_dir,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        allow_ungated=allow_ungated,
        select=select,
        token_file=token_file,
        on_start=announce,
    )
    raise typer.Exit(rc)
