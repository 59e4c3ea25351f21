"""Starting and resuming a training run: a new run dir, its folder reloaded and checked, the trainer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from augment_gan import __version__
from augment_gan.contracts.run_dir import RunDir, create_run_dir, find_latest_run, read_run_config, write_run_config
from augment_gan.data import ImageData, holdout_split, load_image_folder
from augment_gan.errors import CheckpointError, ConfigError
from augment_gan.nets import NetConfig
from augment_gan.training.config import TrainConfig
from augment_gan.training.device import pick_device
from augment_gan.training.distributed import Dist
from augment_gan.training.trainer import Trainer

CHANNELS = ("auto", "1", "3")


def new_run(
    models_dir: Path,
    name: str,
    data: ImageData,
    net_cfg: NetConfig,
    cfg: TrainConfig,
    channels_requested: str | int = "auto",
) -> Path:
    """Create ``models/<name>/runs/<run-id>/`` with config.json and split.json.

    ``channels_requested`` is the option ``data`` was loaded with; resume reloads the folder
    with it, so the cache key (which includes it) identifies the same files."""
    if data.resolution != net_cfg.resolution:  # D would sum-pool the wrong size without a word
        raise ConfigError(
            f"the folder was loaded at {data.resolution} px but the nets are built for "
            f"{net_cfg.resolution} px; load it with resolution={net_cfg.resolution}."
        )
    run_dir = create_run_dir(models_dir, name)
    _, holdout = holdout_split(data.labels, cfg.holdout_fraction, cfg.seed)
    RunDir(run_dir).write_split(cfg.holdout_fraction, cfg.seed, [data.paths[i] for i in holdout])
    write_run_config(
        run_dir,
        {
            "name": name,
            "augment_gan_version": __version__,
            "data": {
                "root": str(Path(data.root).resolve()),
                "key": data.key,
                "classes": data.classes,
                "counts": data.class_counts(),
                "resolution": data.resolution,
                "channels": data.channels,
                "channels_requested": channels_requested,
            },
            "net": net_cfg.to_dict(),
            "train": cfg.to_dict(),
        },
    )
    return run_dir


def start_run(
    models_dir: Path,
    name: str,
    data_dir: Path,
    *,
    channels: str = "auto",
    strict: bool = False,
    net: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> tuple[Path, ImageData]:
    """Load ``data_dir`` and create a new run of NAME for it. Returns (run dir, loaded folder).

    ``net`` and ``train``: the NetConfig / TrainConfig fields chosen (``resolution`` among
    them); the others keep the dataclass defaults, and the folder decides the classes and
    the channels (``channels``: auto, 1 or 3)."""
    if channels not in CHANNELS:
        raise ConfigError(f"channels must be auto, 1 or 3, got {channels!r}.")
    cfg, net = TrainConfig(**(train or {})), dict(net or {})
    data = load_image_folder(
        data_dir,
        resolution=net.get("resolution", NetConfig.resolution),
        strict=strict,
        channels=channels if channels == "auto" else int(channels),
        progress=progress,
    )
    net_cfg = NetConfig(num_classes=len(data.classes), channels=data.channels, **net)
    return new_run(models_dir, name, data, net_cfg, cfg, channels_requested=channels), data


def latest_run_on(models_dir: Path, name: str, data_dir: Path) -> Path:
    """The latest run of NAME, which must have trained on ``data_dir`` (to be resumed)."""
    run_dir = find_latest_run(models_dir, name)
    root = Path(read_run_config(run_dir)["data"]["root"])
    if root != Path(data_dir).resolve():
        raise ConfigError(f"run {run_dir} trained on {root}, not {data_dir}; resume it with that folder.")
    return run_dir


class SettingsChanged(ConfigError):
    """Settings given for a resumed run that differ from the ones it was saved with."""

    def __init__(self, run_dir: Path, changes: list[tuple[str, Any, Any]]) -> None:
        self.run_dir, self.changes = Path(run_dir), changes  # (field, given, saved)
        super().__init__(self.describe())

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """The one-line message; ``names`` spells a field as the caller's option (``lr_g`` -> ``--lr-g``)."""
        names = names or {}
        listed = ", ".join(f"{names.get(f, f)} {given} (run: {saved})" for f, given, saved in self.changes)
        return (
            f"run {self.run_dir} resumes with the settings it was saved with, and "
            f"{'this differs' if len(self.changes) == 1 else 'these differ'}: {listed}; "
            "drop them to resume it, or start a new run."
        )


def check_unchanged(
    run_dir: Path,
    *,
    net: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    channels: str | None = None,
) -> None:
    """SettingsChanged naming every given NetConfig / TrainConfig field (and ``channels``)
    whose value differs from the run's saved config; ``steps`` may change (a new budget)."""
    config = read_run_config(run_dir)
    saved = {
        **NetConfig.from_dict(config["net"]).to_dict(),
        **TrainConfig.from_dict(config["train"]).to_dict(),
        "channels": config["data"]["channels_requested"],
    }
    given = {**(net or {}), **{k: v for k, v in (train or {}).items() if k != "steps"}}
    if channels is not None:
        given["channels"] = channels
    changes = [(k, v, saved.get(k)) for k, v in given.items() if v != saved.get(k)]
    if changes:
        raise SettingsChanged(run_dir, changes)


def load_run_data(run_dir: Path, *, strict: bool = False, progress: bool = True) -> ImageData:
    """Reload the run's image folder and check it is still the folder the run trained on."""
    config = read_run_config(run_dir)
    data_cfg = config["data"]
    data = load_image_folder(
        data_cfg["root"],
        resolution=data_cfg["resolution"],
        channels=data_cfg["channels_requested"],
        strict=strict,
        progress=progress,
    )
    if data.key != data_cfg["key"]:
        raise CheckpointError(
            f"the folder {data_cfg['root']} changed since run {Path(run_dir).name} started "
            "(files added, removed or modified); start a new run instead of resuming."
        )
    return data


def split_indices(run_dir: Path, data: ImageData) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, holdout) indices into ``data`` from the run's split.json."""
    holdout_paths = RunDir(run_dir).read_holdout()
    is_holdout = torch.tensor([p in holdout_paths for p in data.paths], dtype=torch.bool)
    return torch.nonzero(~is_holdout).flatten(), torch.nonzero(is_holdout).flatten()


def make_trainer(
    run_dir: Path,
    data: ImageData,
    *,
    steps: int | None = None,
    device: str | torch.device = "auto",
    dist: Dist | None = None,
    precision: str = "fp32",
    channels_last: bool = False,
) -> Trainer:
    """A trainer for the run (optionally with a new step budget), on the training split."""
    dist = dist or Dist()
    config = read_run_config(run_dir)
    net_cfg = NetConfig.from_dict(config["net"])
    cfg = TrainConfig.from_dict(config["train"])
    if steps is not None and steps != cfg.steps:
        cfg = replace(cfg, steps=steps)
        if dist.is_main:
            write_run_config(run_dir, {**{k: v for k, v in config.items() if k != "format"}, "train": cfg.to_dict()})
    train_idx, _ = split_indices(run_dir, data)
    device = device if isinstance(device, torch.device) else pick_device(device)
    return Trainer(
        run_dir,
        data.images[train_idx],
        data.labels[train_idx],
        net_cfg,
        cfg,
        device,
        dist=dist,
        precision=precision,
        channels_last=channels_last,
    )
