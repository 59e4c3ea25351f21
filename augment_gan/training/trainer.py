"""The training loop: D step(s), G step, EMA update; checkpoints, sample grids, metrics."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from augment_gan.fileio import atomic_write_bytes
from augment_gan.nets import Discriminator, Generator, NetConfig
from augment_gan.training.checkpoint import checkpoint_path, load_latest_checkpoint, save_checkpoint
from augment_gan.training.config import TrainConfig
from augment_gan.training.diffaugment import diff_augment, parse_policy
from augment_gan.training.ema import EMA, recalibrate_batchnorm
from augment_gan.training.losses import get_loss, gradient_penalty
from augment_gan.training.samples import fixed_noise, save_sample_grid

# Seeds of the streams that must never touch the training RNG (exact resume depends on it).
GRID_SEED_OFFSET = 1_000_003
BN_CALIBRATION_SEED_OFFSET = 2_000_003


class TrainingInterrupted(Exception):
    """Raised after Ctrl-C once the current state has been checkpointed."""

    def __init__(self, step: int) -> None:
        super().__init__(f"interrupted at step {step}")
        self.step = step


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA when asked for or when usable (a tiny op really runs), else CPU."""
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        try:
            torch.zeros(1, device="cuda").add_(1)
            return torch.device("cuda")
        except RuntimeError:
            pass
    return torch.device("cpu")


@dataclass
class StepStats:
    loss_d: float
    loss_g: float
    d_real: float
    d_fake: float


class Trainer:
    """Trains a class-conditional GAN on uint8 images (N, C, H, W) with int64 labels (N,).

    Writes into ``run_dir``: ``checkpoints/step-XXXXXXX.pt``, ``samples/step-XXXXXXX.png``
    and ``metrics.jsonl``. ``resume()`` restores the newest readable checkpoint, after which
    training continues bit-for-bit as if it had never stopped (on CPU).
    """

    def __init__(
        self,
        run_dir: Path,
        images: torch.Tensor,
        labels: torch.Tensor,
        net_cfg: NetConfig,
        cfg: TrainConfig,
        device: torch.device | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.net_cfg, self.cfg = net_cfg, cfg
        self.device = device or pick_device()
        self.images = images.to(self.device)  # kept uint8; converted per batch
        self.labels = labels.to(self.device)
        counts = torch.bincount(labels, minlength=net_cfg.num_classes).clamp(min=1).double()
        self.sample_weights = (counts[labels] ** -cfg.class_balance).to(self.device)

        # All randomness flows from self.rng (saved in checkpoints); weight init uses a
        # forked global RNG so that building a Trainer never disturbs the caller's.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.G = Generator(net_cfg).to(self.device)
            self.D = Discriminator(net_cfg).to(self.device)
        self.rng = torch.Generator(device=self.device).manual_seed(cfg.seed)
        self.ema = EMA(self.G, cfg.ema_decay)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=betas)
        self.loss = get_loss(cfg.loss, cfg.label_smoothing)
        self.policy = parse_policy(cfg.diffaugment)
        self.grid_z, self.grid_labels = fixed_noise(
            net_cfg.num_classes, cfg.sample_columns, net_cfg.latent_dim, cfg.seed + GRID_SEED_OFFSET
        )
        self.step = 0

    # --- one step -------------------------------------------------------------------
    def _sample_indices(self) -> torch.Tensor:
        return torch.multinomial(self.sample_weights, self.cfg.batch_size, replacement=True, generator=self.rng)

    def _real_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self._sample_indices()
        return self.images[idx].float() / 127.5 - 1.0, self.labels[idx]

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.net_cfg.latent_dim, device=self.device, generator=self.rng)

    def train_step(self) -> StepStats:
        G, D, aug = self.G, self.D, lambda x: diff_augment(x, self.policy, self.rng)
        for _ in range(self.cfg.n_critic):
            real, y = self._real_batch()
            with torch.no_grad():
                fake = G(self._noise(len(y)), y)
            d_real, d_fake = D(aug(real), y), D(aug(fake), y)
            loss_d = self.loss.d_loss(d_real, d_fake)
            if self.loss.uses_gradient_penalty:
                loss_d = loss_d + self.cfg.gp_weight * gradient_penalty(D, real, fake, y, self.rng)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()

        y = self.labels[self._sample_indices()]  # G's labels follow the same class weighting
        loss_g = self.loss.g_loss(D(aug(G(self._noise(len(y)), y)), y))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()

        self.step += 1
        # Warm-up: early in training the average would be dominated by random init weights.
        self.ema.decay = min(self.cfg.ema_decay, (1 + self.step) / (10 + self.step))
        self.ema.update(G)
        return StepStats(loss_d.item(), loss_g.item(), d_real.mean().item(), d_fake.mean().item())

    # --- state ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.ema.shadow.state_dict(),
            "opt_G": self.opt_g.state_dict(),
            "opt_D": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
            "net_config": self.net_cfg.to_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.ema.shadow.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_G"])
        self.opt_d.load_state_dict(state["opt_D"])
        self.rng.set_state(state["rng"].cpu())
        self.step = int(state["step"])

    def resume(self) -> int:
        """Restore the newest readable checkpoint; returns its step (0 when there is none)."""
        found = load_latest_checkpoint(self.run_dir, map_location=self.device)
        if found is None:
            return 0
        self.load_state_dict(found[1])
        self._truncate_metrics(self.step)
        return self.step

    def save(self) -> Path:
        """Checkpoint + sample grid for the current step. Calibrates the EMA G's BatchNorm."""
        recalibrate_batchnorm(
            self.ema.shadow,
            self.net_cfg.num_classes,
            self.net_cfg.latent_dim,
            seed=self.cfg.seed + BN_CALIBRATION_SEED_OFFSET,
        )
        path = checkpoint_path(self.run_dir, self.step)
        save_checkpoint(path, self.state_dict())
        save_sample_grid(
            self.ema.shadow,
            self.grid_z,
            self.grid_labels,
            self.net_cfg.num_classes,
            self.run_dir / "samples" / f"step-{self.step:07d}.png",
        )
        self._log({"step": self.step, "event": "checkpoint", "path": str(path.relative_to(self.run_dir))})
        return path

    # --- the loop -------------------------------------------------------------------
    def fit(
        self,
        progress: bool = True,
        on_step: Callable[["Trainer"], None] | None = None,
        on_checkpoint: Callable[["Trainer"], None] | None = None,
    ) -> int:
        """Train until ``cfg.steps``; ``on_step`` runs after every step (hooks, tests),
        ``on_checkpoint`` after every checkpoint (evaluation during training).

        The first Ctrl-C lets the current step finish, checkpoints it and raises
        :class:`TrainingInterrupted` (so the checkpoint is an exact resume point); a second
        Ctrl-C stops at once, and resume then falls back to the previous checkpoint."""
        def checkpoint() -> None:
            self.save()
            if on_checkpoint is not None:
                on_checkpoint(self)

        if self.step == 0:
            checkpoint()  # step 0: the untrained baseline the gate must reject
        cfg = self.cfg
        window: list[StepStats] = []
        t_window = time.perf_counter()
        columns = (
            TextColumn("[bold]train[/] step {task.completed}/{task.total}"),
            BarColumn(),
            TextColumn("{task.fields[speed]} it/s  D {task.fields[loss_d]}  G {task.fields[loss_g]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, disable=not progress, transient=False) as bar, _deferred_sigint() as stop:
            task = bar.add_task("train", total=cfg.steps, completed=self.step, speed="-", loss_d="-", loss_g="-")
            while self.step < cfg.steps:
                window.append(self.train_step())
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    dt = (time.perf_counter() - t_window) / len(window)
                    record = self._summarise(window, dt)
                    self._log(record)
                    bar.update(task, speed=f"{1 / dt:.1f}", loss_d=f"{record['loss_d']:.3f}",
                               loss_g=f"{record['loss_g']:.3f}")
                    window, t_window = [], time.perf_counter()
                bar.update(task, completed=self.step)
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                    checkpoint()
                if on_step is not None:
                    on_step(self)
                if stop.is_set():
                    if not checkpoint_path(self.run_dir, self.step).exists():
                        checkpoint()
                    raise TrainingInterrupted(self.step)
        return self.step

    def _summarise(self, window: list[StepStats], sec_per_step: float) -> dict:
        n = len(window)
        return {
            "step": self.step,
            "loss_d": sum(s.loss_d for s in window) / n,
            "loss_g": sum(s.loss_g for s in window) / n,
            "d_real": sum(s.d_real for s in window) / n,
            "d_fake": sum(s.d_fake for s in window) / n,
            "sec_per_step": sec_per_step,
            "images_per_s": self.cfg.batch_size / sec_per_step,
            "time": time.time(),
        }

    def _log(self, record: dict) -> None:
        with open(self.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def _truncate_metrics(self, step: int) -> None:
        """Drop log lines written after the checkpoint we resume from (they will be redone)."""
        path = self.run_dir / "metrics.jsonl"
        if not path.exists():
            return
        kept = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
        atomic_write_bytes(path, ("\n".join(kept) + "\n" if kept else "").encode())


class _deferred_sigint:
    """Context manager: the first SIGINT sets an event instead of raising; the second raises.

    Only installs the handler in the main thread (signal handlers cannot be set elsewhere).
    """

    def __enter__(self) -> threading.Event:
        self.event = threading.Event()
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self.event

    def _handle(self, signum: int, frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
