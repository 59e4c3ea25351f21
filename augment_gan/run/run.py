"""One training run, opened once: its run dir, its spec, its folder (loaded once), its split
and its checkpoints' EMA generators.

Every stage after training (evaluate, promote, export, the report) takes a :class:`Run`
instead of rebuilding one from the run dir's path helper by helper, and training starts
from one too. It sits below ``training/`` and ``evaluation/``, so neither imports the
other's internals.

Example::

    run = Run.open("models/digits/runs/20260101-120000")
    run.spec.train.steps, run.data.classes, run.split[1]          # the held-out indices
    generator, net_cfg, step = run.ema_generator("latest")
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import torch
from torch import nn

from augment_gan import __version__
from augment_gan.contracts.run_dir import RunDir, create_run_dir, find_latest_run
from augment_gan.data import ImageData, holdout_split, load_image_folder
from augment_gan.errors import CheckpointError, ConfigError
from augment_gan.nets import Generator, NetConfig
from augment_gan.nets.routed import ClassRouted
from augment_gan.run.checkpoint import load_checkpoint, resolve_checkpoint
from augment_gan.run.spec import CHANNELS, DataSpec, EvalSchedule, RunSpec
from augment_gan.run.train_config import TrainConfig


class Run:
    """A run dir with its spec read once; the folder and the split load on first use."""

    def __init__(
        self,
        path: str | Path,
        spec: RunSpec,
        data: ImageData | None = None,
        *,
        strict: bool = False,
        progress: bool = True,
    ) -> None:
        self.path, self.dir, self.spec = Path(path), RunDir(path), spec
        self._strict, self._progress = strict, progress
        if data is not None:
            self.__dict__["data"] = data  # the folder the caller already loaded (and checked)

    @classmethod
    def open(cls, run_dir: str | Path, *, strict: bool = False, progress: bool = True) -> Run:
        """The run at ``run_dir`` (CheckpointError if it is not one)."""
        return cls(run_dir, RunSpec.read(run_dir), strict=strict, progress=progress)

    @classmethod
    def create(cls, models_dir: str | Path, data: ImageData, spec: RunSpec) -> Run:
        """A new run dir ``models/<name>/runs/<run-id>/`` for ``spec``, with its config.json and split.json."""
        path = create_run_dir(Path(models_dir), spec.name)
        train = spec.train
        _, holdout = holdout_split(data.labels, train.holdout_fraction, train.seed)
        RunDir(path).write_split(train.holdout_fraction, train.seed, [data.paths[i] for i in holdout])
        spec.write(path)
        return cls(path, spec, data)

    @property
    def name(self) -> str:
        return self.spec.name

    @cached_property
    def data(self) -> ImageData:
        """The run's image folder, reloaded once and checked to be the folder the run trained on."""
        d = self.spec.data
        data = load_image_folder(
            d.root, resolution=d.resolution, channels=d.channels_requested, strict=self._strict, progress=self._progress
        )
        if data.key != d.key:
            raise CheckpointError(
                f"the folder {d.root} changed since run {self.path.name} started "
                "(files added, removed or modified); start a new run instead of resuming."
            )
        return data

    @cached_property
    def split(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(train, holdout) indices into :attr:`data`, from split.json."""
        holdout_paths = self.dir.read_holdout()
        is_holdout = torch.tensor([p in holdout_paths for p in self.data.paths], dtype=torch.bool)
        return torch.nonzero(~is_holdout).flatten(), torch.nonzero(is_holdout).flatten()

    def checkpoint(self, which: str | int = "latest") -> tuple[int, Path]:
        """'latest' or a step -> (step, checkpoint path)."""
        return resolve_checkpoint(self.path, which)

    def ema_generator(self, which: str | int = "latest") -> tuple[Generator, NetConfig, int]:
        """The EMA generator of a checkpoint, in eval mode, with its NetConfig and step."""
        return load_ema_generator(self.checkpoint(which)[1])

    def class_generator(self, steps: Mapping[str, int]) -> tuple[nn.Module, NetConfig]:
        """The EMA generator(s) the classes are generated with (``steps``: class name -> step):
        one step's generator, or :class:`~augment_gan.nets.routed.ClassRouted` over each
        distinct step's when the classes' steps differ. Eval mode."""
        distinct = sorted(set(steps.values()))
        loaded = [self.ema_generator(step) for step in distinct]
        net_cfg = loaded[0][1]
        if len(distinct) == 1:
            return loaded[0][0], net_cfg
        route = [distinct.index(steps[name]) for name in self.spec.data.classes]
        return ClassRouted([generator for generator, _, _ in loaded], route).eval(), net_cfg

    def set_steps(self, steps: int) -> None:
        """A new step budget, saved with the run (resume)."""
        if steps != self.spec.train.steps:
            self.spec = self.spec.with_changes(train={"steps": steps})
            self.spec.write(self.path)


def load_ema_generator(checkpoint: Path) -> tuple[Generator, NetConfig, int]:
    """A checkpoint file's EMA generator (eval mode), its NetConfig and step."""
    state = load_checkpoint(checkpoint)
    net_cfg = NetConfig.from_dict(state["net_config"])
    generator = Generator(net_cfg)
    generator.load_state_dict(state["G_ema"])
    return generator.eval(), net_cfg, int(state["step"])


def start_run(
    models_dir: str | Path,
    name: str,
    data_dir: str | Path,
    *,
    channels: str = "auto",
    strict: bool = False,
    net: NetConfig | dict | None = None,
    train: TrainConfig = TrainConfig(),
    evaluation: EvalSchedule = EvalSchedule(),
    progress: bool = True,
) -> Run:
    """Load ``data_dir`` and create a new run of NAME for it.

    ``net``: NetConfig fields other than those the folder decides (classes, channels), as a
    dict, or a NetConfig whose ``resolution`` and other settings are taken (the folder still
    decides classes and channels). ``channels``: auto, 1 or 3."""
    if str(channels) not in CHANNELS:
        raise ConfigError(f"channels must be auto, 1 or 3, got {channels!r}.")
    net = net.to_dict() if isinstance(net, NetConfig) else dict(net or {})
    net.pop("num_classes", None), net.pop("channels", None)
    data = load_image_folder(
        data_dir,
        resolution=net.get("resolution", NetConfig.resolution),
        strict=strict,
        channels=channels if channels == "auto" else int(channels),
        progress=progress,
    )
    return Run.create(models_dir, data, make_spec(name, data, net, train, evaluation, channels))


def make_spec(
    name: str,
    data: ImageData,
    net: dict,
    train: TrainConfig,
    evaluation: EvalSchedule = EvalSchedule(),
    channels_requested: str | int = "auto",
) -> RunSpec:
    """The spec of a new run of ``name`` on the loaded folder ``data``."""
    data_spec = DataSpec(
        str(Path(data.root).resolve()),
        data.key,
        tuple(data.classes),
        data.class_counts(),
        data.resolution,
        data.channels,
        channels_requested,
    )
    net_cfg = NetConfig(num_classes=len(data.classes), channels=data.channels, **net)
    return RunSpec(name, data_spec, net_cfg, train, evaluation, __version__)


def latest_run_on(models_dir: str | Path, name: str, data_dir: str | Path) -> Path:
    """The latest run of NAME, which must have trained on ``data_dir`` (to be resumed)."""
    run_dir = find_latest_run(Path(models_dir), name)
    root = Path(RunSpec.read(run_dir).data.root)
    if root != Path(data_dir).resolve():
        raise ConfigError(f"run {run_dir} trained on {root}, not {data_dir}; resume it with that folder.")
    return run_dir
