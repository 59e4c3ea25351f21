"""augment-gan: class-conditional GAN augmentation for imbalanced image folders."""

__version__ = "0.1.0"
