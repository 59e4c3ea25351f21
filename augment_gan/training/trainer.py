"""The training loop: D step(s), G step, EMA update; checkpoints, sample grids, metrics."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from augment_gan.contracts.run_dir import RunDir
from augment_gan.errors import ConfigError
from augment_gan.nets import Discriminator, Generator, NetConfig
from augment_gan.run.checkpoint import checkpoint_path, load_latest_checkpoint, save_checkpoint
from augment_gan.run.samples import fixed_noise, save_sample_grid
from augment_gan.run.train_config import TrainConfig
from augment_gan.training.ada import ADA_INTERVAL, ClassAdaptiveAugment
from augment_gan.training.device import pick_device, resolve_precision
from augment_gan.training.diffaugment import parse_policy
from augment_gan.training.distributed import Dist
from augment_gan.training.ema import EMA, recalibrate_batchnorm
from augment_gan.training.interrupt import deferred_interrupt
from augment_gan.training.live_log import TensorBoardLog
from augment_gan.training.long_tail import class_weights, group_spectral_penalty, transition_weight
from augment_gan.training.losses import get_loss, gradient_penalty, lecam_penalty, mode_seeking_penalty, topk_fraction
from augment_gan.training.records import StepStats, progress_bar, start_record, window_record
from augment_gan.training.sampler import CLASS_GROUP, ClassGroupSampler

LECAM_DECAY = 0.99  # the running means of D's scores that LeCam compares against (the paper's)

# Seeds of the streams that must never touch the training RNG (exact resume depends on it).
GRID_SEED_OFFSET = 1_000_003
BN_CALIBRATION_SEED_OFFSET = 2_000_003


class TrainingInterrupted(Exception):
    """Raised after Ctrl-C once the current state has been checkpointed."""

    def __init__(self, step: int) -> None:
        super().__init__(f"interrupted at step {step}")
        self.step = step


class Trainer:
    """Trains a class-conditional GAN on uint8 images (N, C, H, W) with int64 labels (N,).

    Writes into ``run_dir``: ``checkpoints/step-XXXXXXX.pt``, ``samples/step-XXXXXXX.png``
    and ``metrics.jsonl``. ``resume()`` restores the newest readable checkpoint, after which
    training continues bit-for-bit as if it had never stopped (on CPU).

    Under torchrun, pass the process's ``dist``: G and D are wrapped in
    DistributedDataParallel, each rank trains on its shard of every global batch
    (``cfg.batch_size`` is the global batch), and only rank 0 writes. On CUDA, G's BatchNorm
    becomes SyncBatchNorm (statistics over the global batch); on CPU (gloo) each rank
    normalises over its own shard. ``precision="bf16"`` (CUDA only) runs the forward passes
    under bf16 autocast; ``channels_last`` switches the nets' memory format.
    """

    def __init__(
        self,
        run_dir: Path,
        images: torch.Tensor,
        labels: torch.Tensor,
        net_cfg: NetConfig,
        cfg: TrainConfig,
        device: torch.device | None = None,
        dist: Dist | None = None,
        precision: str = "fp32",
        channels_last: bool = False,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.files = RunDir(run_dir)
        self.net_cfg, self.cfg = net_cfg, cfg
        self.device = device or pick_device()
        self.dist = dist or Dist()
        world = self.dist.world_size
        if cfg.batch_size % world or cfg.batch_size // world < 2:
            raise ConfigError(
                f"the batch size ({cfg.batch_size}) is the global batch: it must be a multiple of "
                f"the number of processes ({world}), with at least 2 images per process."
            )
        self.precision = resolve_precision(precision, self.device)
        if channels_last and self.device.type != "cuda":
            raise ConfigError("channels_last is for CUDA; on CPU it only slows these nets down.")
        self.channels_last = channels_last
        self._shard = (self.dist.rank, world)
        self.images = images.to(self.device)  # kept uint8; converted per batch
        self.labels = labels.to(self.device)
        group = CLASS_GROUP if net_cfg.minibatch_std == "class" else 1
        self.sampler = ClassGroupSampler(self.labels, net_cfg.num_classes, cfg.class_balance, group)

        # All randomness flows from self.rng (saved in checkpoints); weight init uses a
        # forked global RNG so that building a Trainer never disturbs the caller's.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.G = Generator(net_cfg).to(self.device)
            self.D = Discriminator(net_cfg).to(self.device)
        if channels_last:
            self.G, self.D = self.G.to(memory_format=torch.channels_last), self.D.to(memory_format=torch.channels_last)
        self.rng = torch.Generator(device=self.device).manual_seed(cfg.seed)
        self.ema = EMA(self.G, cfg.ema_decay)  # before SyncBatchNorm: rank 0 alone samples from it
        # The modules trained through (DDP wrappers under torchrun); self.G/self.D stay the
        # plain modules that are saved, averaged and sampled from.
        self.G_train: nn.Module = self.G
        self.D_train: nn.Module = self.D
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            if self.device.type == "cuda":
                self.G = nn.SyncBatchNorm.convert_sync_batchnorm(self.G)
            # DDP broadcasts rank 0's weights and buffers (spectral-norm vectors, BN stats)
            # at construction and buffers before every forward, so all ranks stay identical.
            self.G_train, self.D_train = DDP(self.G, device_ids=ids), DDP(self.D, device_ids=ids)
        betas = (cfg.beta1, cfg.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=betas)
        self.loss = get_loss(cfg.loss, cfg.label_smoothing)
        counts = torch.bincount(labels, minlength=net_cfg.num_classes)
        self.class_weights = class_weights(counts).to(self.device)  # gSR's and the class noise's
        self.augment = ClassAdaptiveAugment(
            net_cfg.num_classes,
            parse_policy(cfg.diffaugment),
            cfg.ada_target,
            self.device,
            # ADA decides per class itself; without it, the classes under diffaugment_below
            only=(counts < cfg.diffaugment_below) if cfg.diffaugment_below and not cfg.ada_target else None,
        )
        self.grid_z, self.grid_labels = fixed_noise(
            net_cfg.num_classes, cfg.sample_columns, net_cfg.latent_dim, cfg.seed + GRID_SEED_OFFSET
        )
        self.lecam_means = torch.zeros(2, device=self.device)  # running mean of D(real), D(fake)
        self.step = 0
        self._checkpointed_step = -1
        self.live_log: TensorBoardLog | None = None  # gets every metrics.jsonl record too (--log tensorboard)

    # --- one step -------------------------------------------------------------------
    # Every draw is for the global batch, from the RNG all ranks share; a rank keeps its shard.
    def _sample_indices(self) -> torch.Tensor:
        """This rank's shard of the global batch's image indices (see :mod:`.sampler`)."""
        return self.dist.shard(self.sampler.draw(self.cfg.batch_size, self.rng))

    def _real_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self._sample_indices()
        real = self.images[idx].float() / 127.5 - 1.0
        if self.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        return real, self.labels[idx]

    def _fake_labels(self, real_labels: torch.Tensor) -> torch.Tensor:
        """The classes of a batch of fakes: the reals' own (``as-real``) or uniform draws."""
        if self.cfg.fake_labels == "as-real":
            return real_labels
        y = torch.randint(self.net_cfg.num_classes, (self.cfg.batch_size,), device=self.device, generator=self.rng)
        return self.dist.shard(y)

    def _noise(self, n: int) -> torch.Tensor:
        z = torch.randn(n * self.dist.world_size, self.net_cfg.latent_dim, device=self.device, generator=self.rng)
        return self.dist.shard(z)

    def _class_noise(self, y: torch.Tensor) -> torch.Tensor | None:
        """Noise for the class embeddings of fakes labelled ``y`` (None when off)."""
        if not self.cfg.class_noise:
            return None
        dim = self.G.embed_dim
        eps = torch.randn(len(y) * self.dist.world_size, dim, device=self.device, generator=self.rng)
        return self.dist.shard(eps) * (self.cfg.class_noise * self.class_weights[y])[:, None]

    def _scores(self, D: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        """D's (class-free, conditional) scores in fp32; the class-free one only with --transition."""
        if self.cfg.transition:
            free, cond = D(x, y, heads=True)
            return free.float(), cond.float()
        return None, D(x, y).float()

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def train_step(self) -> StepStats:
        G, D = self.G_train, self.D_train
        aug = lambda x, y: self.augment(x, y, self.rng, self._shard)  # noqa: E731
        weight = transition_weight(self.cfg.transition, self.step, self.cfg.steps)  # of the conditional loss
        for _ in range(self.cfg.n_critic):
            real, y = self._real_batch()
            y_fake = self._fake_labels(y)
            with torch.no_grad(), self._autocast():
                fake = G(self._noise(len(y_fake)), y_fake, self._class_noise(y_fake))
            with self._autocast():
                (free_real, d_real), (free_fake, d_fake) = (
                    self._scores(D, aug(real, y), y),
                    self._scores(D, aug(fake, y_fake), y_fake),
                )
            self.augment.observe(d_real, y)
            loss_d = weight * self.loss.d_loss(d_real, d_fake)
            if free_real is not None:  # transitional: the class-free loss, always on
                loss_d = loss_d + self.loss.d_loss(free_real, free_fake)
            if self.loss.uses_gradient_penalty:
                gp = gradient_penalty(D, real, fake.float(), y, self.rng, self._shard)
                loss_d = loss_d + self.cfg.gp_weight * gp
            if self.cfg.lecam:
                means = torch.stack([d_real.detach().mean(), d_fake.detach().mean()])
                self.lecam_means.lerp_(means, 1.0 - LECAM_DECAY)
                loss_d = loss_d + self.cfg.lecam * lecam_penalty(d_real, d_fake, *self.lecam_means)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()

        y = self._fake_labels(self.labels[self._sample_indices()])
        if self.cfg.mode_seeking:
            half = len(y) // 2
            y = torch.cat([y[:half], y[:half], y[2 * half :]])  # pairs (z1, y), (z2, y)
        z = self._noise(len(y))
        # D's plain module here: its gradients from this pass are discarded, so there is
        # nothing to all-reduce; G's gradients are, through G's DDP wrapper.
        with self._autocast():
            fake = G(z, y, self._class_noise(y))
            free, scores = self._scores(self.D, aug(fake, y), y)
            if self.cfg.topk < 1.0:  # G learns from the fakes D rates most real
                k = max(1, round(len(scores) * topk_fraction(self.cfg.topk, self.step, self.cfg.steps)))
                scores, kept = scores.topk(k)
                free = None if free is None else free[kept]
            loss_g = weight * self.loss.g_loss(scores)
            if free is not None:
                loss_g = loss_g + self.loss.g_loss(free)
        if self.cfg.gsr:
            loss_g = loss_g + self.cfg.gsr * group_spectral_penalty(self.G.class_affines(), self.class_weights)
        if self.cfg.mode_seeking:
            loss_g = loss_g + self.cfg.mode_seeking * mode_seeking_penalty(fake.float(), z, half)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()

        self.step += 1
        if self.step % ADA_INTERVAL == 0:
            self.augment.update(self.dist)
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
            "lecam_means": self.lecam_means,
            "augment": self.augment.state_dict(),
            "net_config": self.net_cfg.to_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.ema.shadow.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_G"])
        self.opt_d.load_state_dict(state["opt_D"])
        self.step = int(state["step"])
        self.lecam_means.copy_(state.get("lecam_means", torch.zeros(2)))  # absent before the option
        if "augment" in state:  # absent before the option
            self.augment.load_state_dict(state["augment"])
        try:
            self.rng.set_state(state["rng"].cpu())
        except RuntimeError:  # saved by a generator on another device type (CUDA <-> CPU)
            self.rng.manual_seed(self.cfg.seed + self.step)
            warnings.warn(
                "the checkpoint's RNG state is from another device type; reseeded, so this "
                "resumed run is not bit-identical to an uninterrupted one.",
                stacklevel=2,
            )

    def resume(self) -> int:
        """Restore the newest readable checkpoint; returns its step (0 when there is none).

        Every rank reads the same file (the run dir must be on storage all nodes see), so
        a run resumes with any number of processes."""
        found = load_latest_checkpoint(self.run_dir, map_location=self.device)
        if found is None:
            return 0
        self.load_state_dict(found[1])
        self._checkpointed_step = self.step
        if self.dist.is_main:
            self.files.truncate_metrics(self.step)
        return self.step

    def save(self) -> Path:
        """Checkpoint + sample grid for the current step. Calibrates the EMA G's BatchNorm.

        Rank 0's job only (``fit`` calls it there)."""
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
            self.files.sample_grid(self.step),
        )
        self._log({"step": self.step, "event": "checkpoint", "path": str(path.relative_to(self.run_dir))})
        return path

    # --- the loop -------------------------------------------------------------------
    def fit(
        self,
        progress: bool = True,
        on_step: Callable[[Trainer], None] | None = None,
        on_checkpoint: Callable[[Trainer], None] | None = None,
    ) -> int:
        """Train until ``cfg.steps``; ``on_step`` runs after every step (hooks, tests),
        ``on_checkpoint`` after every checkpoint (evaluation during training).

        The first Ctrl-C lets the current step finish, checkpoints it and raises
        :class:`TrainingInterrupted` (so the checkpoint is an exact resume point); a second
        Ctrl-C stops at once, and resume then falls back to the previous checkpoint."""

        def checkpoint() -> None:
            if self.dist.is_main:
                self.save()
                if on_checkpoint is not None:
                    on_checkpoint(self)
            self._checkpointed_step = self.step
            self.dist.barrier()

        if self.dist.is_main:
            self._log(start_record(self))
        if self.step == 0:
            checkpoint()  # step 0: the untrained baseline the gate must reject
        cfg = self.cfg
        window: list[StepStats] = []
        t_window = t_start = time.perf_counter()
        with (
            progress_bar(progress and self.dist.is_main) as bar,
            deferred_interrupt(also_sigterm=self.dist.enabled) as stop,
        ):
            task = bar.add_task("train", total=cfg.steps, completed=self.step, speed="-", loss_d="-", loss_g="-")
            while self.step < cfg.steps:
                window.append(self.train_step())
                if cfg.minutes and self.step % cfg.log_every == 0 and self._out_of_time(t_start):
                    # the step reached becomes the last: logged, checkpointed and evaluated as such
                    cfg = self.cfg = replace(cfg, steps=self.step)
                    bar.update(task, total=self.step)
                    if self.dist.is_main:
                        self._log({"step": self.step, "event": "time budget", "minutes": cfg.minutes})
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    dt = (time.perf_counter() - t_window) / len(window)
                    record = window_record(self, window, dt)
                    if self.dist.is_main:
                        self._log(record)
                    bar.update(
                        task, speed=f"{1 / dt:.1f}", loss_d=f"{record['loss_d']:.3f}", loss_g=f"{record['loss_g']:.3f}"
                    )
                    window, t_window = [], time.perf_counter()
                bar.update(task, completed=self.step)
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                    checkpoint()
                if on_step is not None:
                    on_step(self)
                if self.dist.any(stop.is_set(), self.device):  # all ranks stop at the same step
                    if self._checkpointed_step != self.step:
                        checkpoint()
                    raise TrainingInterrupted(self.step)
        return self.step

    def _out_of_time(self, t_start: float) -> bool:
        """Whether the time budget is spent (the same answer on every rank)."""
        return self.dist.any(time.perf_counter() - t_start >= self.cfg.minutes * 60, self.device)

    def _log(self, record: dict) -> None:
        self.files.append_metrics(record)
        if self.live_log is not None:
            self.live_log.record(record)
