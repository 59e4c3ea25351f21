"""A training run: its one spec (``config.json``), its checkpoints and sample grids, and the
:class:`Run` every stage after training opens once.

Names resolve lazily: the spec and TrainConfig import no torch.
"""

from augment_gan.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "spec": ("DataSpec", "EvalSchedule", "RunSpec", "SettingsChanged", "check_unchanged"),
        "train_config": ("TrainConfig",),
        "run": ("Run", "latest_run_on", "load_ema_generator", "make_spec", "start_run"),
    },
)
