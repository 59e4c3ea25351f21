"""The ``augment-gan`` command line: thin commands that call the library and print."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from augment_gan.errors import AugmentGanError

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
    n_critic: Annotated[int, typer.Option(help="D steps per G step (5 is usual for wgan-gp).")] = 1,
    ema_decay: Annotated[float, typer.Option(help="Decay of the generator's EMA copy.")] = 0.999,
    diffaugment: Annotated[str, typer.Option(help="DiffAugment policy, or 'none'.")] = "color,translation,cutout",
    label_smoothing: Annotated[float, typer.Option(help="One-sided label smoothing (ns loss only).")] = 0.0,
    g_width: Annotated[int, typer.Option(help="Generator width (channels of the last block).")] = 32,
    d_width: Annotated[int, typer.Option(help="Discriminator width (channels of the first block).")] = 32,
    latent_dim: Annotated[int, typer.Option(help="Size of the noise vector z.")] = 128,
    holdout: Annotated[float, typer.Option(help="Share of each class held out of training for evaluation.")] = 0.1,
    strict: Annotated[bool, typer.Option(help="Fail if any file would be skipped.")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
) -> None:
    """Train a class-conditional GAN on DATA_DIR; writes a run dir with checkpoints and grids."""
    from augment_gan.data import load_image_folder
    from augment_gan.errors import ConfigError
    from augment_gan.nets import NetConfig
    from augment_gan.training import TrainConfig
    from augment_gan.training.rundir import find_latest_run, read_run_config
    from augment_gan.training.run import load_run_data, make_trainer, new_run

    with user_errors():
        if resume:
            run_dir = find_latest_run(models_dir, name)
            root = Path(read_run_config(run_dir)["data"]["root"])
            if root != data_dir.resolve():
                raise ConfigError(f"run {run_dir} trained on {root}, not {data_dir}; resume it with that folder.")
            data = load_run_data(run_dir, strict=strict)
        else:
            if channels not in ("auto", "1", "3"):
                raise ConfigError(f"channels must be auto, 1 or 3, got {channels!r}.")
            data = load_image_folder(
                data_dir, resolution=resolution, channels=channels if channels == "auto" else int(channels),
                strict=strict,
            )
            net_cfg = NetConfig(
                num_classes=len(data.classes), resolution=resolution, channels=data.channels,
                latent_dim=latent_dim, g_width=g_width, d_width=d_width,
            )
            cfg = TrainConfig(
                steps=steps, batch_size=batch_size, loss=loss, lr_g=lr_g, lr_d=lr_d, n_critic=n_critic,
                ema_decay=ema_decay, diffaugment=diffaugment, label_smoothing=label_smoothing,
                holdout_fraction=holdout, seed=seed, checkpoint_every=checkpoint_every,
            )
            run_dir = new_run(models_dir, name, data, net_cfg, cfg, channels_requested=channels)
        if data.skipped:
            err_console.print(f"[yellow]warning:[/] skipped {len(data.skipped)} unusable file(s); "
                              f"`augment-gan inspect {data_dir}` lists them with reasons.")
        trainer = make_trainer(run_dir, data, steps=steps if resume else None, device=device)
        start = trainer.resume() if resume else 0
        _train_with_report(trainer, run_dir, start)


def _train_with_report(trainer, run_dir: Path, start: int) -> None:
    from augment_gan.training import TrainingInterrupted

    counts = trainer.labels.bincount(minlength=trainer.net_cfg.num_classes).tolist()
    console.print(
        f"run dir [bold]{run_dir}[/]\n"
        f"training on {len(trainer.labels)} images in {trainer.net_cfg.num_classes} classes "
        f"(per class {counts}), {trainer.net_cfg.resolution}x{trainer.net_cfg.resolution}, "
        f"{trainer.net_cfg.channels} channel(s), device {trainer.device}"
        + (f", resuming at step {start}" if start else ""),
        highlight=False,
    )
    t0 = time.perf_counter()
    try:
        trainer.fit(progress=True)
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


@app.command()
def demo(
    models_dir: ModelsDir = Path("models"),
    steps: Annotated[int, typer.Option(help="Training steps for the demo run.")] = 1500,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
) -> None:
    """Run the main job end to end on scikit-learn's handwritten digits, made imbalanced."""
    from augment_gan.data import format_summary_table, load_image_folder, summarize
    from augment_gan.data.digits import write_digits_folder
    from augment_gan.nets import NetConfig
    from augment_gan.training import TrainConfig
    from augment_gan.training.run import make_trainer, new_run

    with user_errors():
        folder = models_dir / "demo-data" / "digits-imbalanced"
        write_digits_folder(folder, seed=seed)
        console.rule("1. the imbalanced folder")
        data = load_image_folder(folder)
        console.print(format_summary_table(summarize(data)))
        console.rule("2. train the class-conditional GAN")
        net_cfg = NetConfig(num_classes=len(data.classes), channels=data.channels, g_width=32, d_width=32)
        cfg = TrainConfig(steps=steps, checkpoint_every=max(steps // 3, 1), seed=seed)
        run_dir = new_run(models_dir, "digits", data, net_cfg, cfg)
        trainer = make_trainer(run_dir, data)
        _train_with_report(trainer, run_dir, 0)
        console.print(f"one row per class (0 at the top): open {run_dir / 'samples'} to compare steps.")


if __name__ == "__main__":  # `python -m augment_gan.cli` (e.g. under torchrun)
    app()
