"""GAN training: losses, DiffAugment, EMA, the batch sampler, DDP and the trainer loop.

Its config (``TrainConfig``) and the checkpoint format live with the run (:mod:`augment_gan.run`),
below both training and evaluation. Names resolve lazily (:mod:`augment_gan.lazy`).
"""

from augment_gan.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "device": ("pick_device",),
        "trainer": ("Trainer", "TrainingInterrupted"),
        "make": ("make_trainer",),
    },
)
