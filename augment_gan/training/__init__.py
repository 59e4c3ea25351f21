"""GAN training: losses, DiffAugment, EMA, checkpoints and the trainer loop.

Names resolve lazily (:mod:`augment_gan.lazy`): the config dataclasses import no torch.
"""

from augment_gan.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "config": ("TrainConfig",),
        "device": ("pick_device",),
        "trainer": ("Trainer", "TrainingInterrupted"),
        "make": ("make_trainer",),
    },
)
