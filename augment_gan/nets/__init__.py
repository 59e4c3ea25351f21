"""Class-conditional generator and discriminator."""

from augment_gan.nets.config import NetConfig
from augment_gan.nets.discriminator import Discriminator
from augment_gan.nets.generator import Generator

__all__ = ["Discriminator", "Generator", "NetConfig"]
