"""GAN training: losses, DiffAugment, EMA, checkpoints and the trainer loop."""

from augment_gan.training.config import TrainConfig
from augment_gan.training.device import pick_device
from augment_gan.training.trainer import Trainer, TrainingInterrupted

__all__ = ["TrainConfig", "Trainer", "TrainingInterrupted", "pick_device"]
