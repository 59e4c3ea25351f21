"""The architecture hyper-parameters: everything needed to rebuild G and D."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from augment_gan.errors import ConfigError
from augment_gan.fields import option

RESOLUTIONS = (32, 64, 128, 256)  # data/decode.py's SUPPORTED_RESOLUTIONS (tests keep them equal)
# No layer is wider than these multiples of g_width / d_width: the widest a 64 px G and D
# reach uncapped, so the 32 and 64 px nets are unchanged. Uncapped, a 128 px G would start at
# 32 x 32 = 1,024 channels and its D end at 512 (D's 4x4 convs make that 9.5 M parameters); capped,
# the default 128 px nets have 4.8 M (G) and 4.0 M (D) parameters, about 2x and 1.7x the 64 px ones.
MAX_G_MULTIPLE = 16
MAX_D_MULTIPLE = 8
MINIBATCH_STD = ("class", "batch")


@dataclass(frozen=True)
class NetConfig:
    num_classes: int
    resolution: int = option(32, "Training resolution: 32, 64, 128 or 256 (images are resized, centre-cropped).")
    channels: int = 1
    latent_dim: int = option(128, "Size of the noise vector z.")
    # 32/32: what `augment-gan train` has always built (2,000 steps ~40 min on 2 CPU cores)
    g_width: int = option(32, "Generator width (channels of the last block).")
    d_width: int = option(32, "Discriminator width (channels of the first block).")
    # D's minibatch-std feature: "class" is the spread among the batch's images of the
    # same class (training then draws the batch in groups of one class), so D sees a class
    # collapsed to one image; "batch" spreads over the whole batch (runs saved without the option).
    minibatch_std: str = option("class", "D's minibatch-std feature: class (spread within a class) or batch.")

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ConfigError(f"resolution must be one of {', '.join(map(str, RESOLUTIONS))}, got {self.resolution}.")
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels}.")
        if self.num_classes < 1:
            raise ConfigError("a model needs at least one class.")
        if min(self.latent_dim, self.g_width, self.d_width) < 1:
            raise ConfigError("latent_dim, g_width and d_width must be positive.")
        if self.minibatch_std not in MINIBATCH_STD:
            raise ConfigError(f"minibatch_std must be one of {', '.join(MINIBATCH_STD)}, got {self.minibatch_std!r}.")

    @property
    def num_blocks(self) -> int:
        # 4x4 base doubled per block: 3 blocks for 32x32, 4 for 64x64, 5 for 128, 6 for 256.
        return self.resolution.bit_length() - 3

    def generator_widths(self) -> list[int]:
        """Channel widths from the 4x4 base to the last block, halving as the side doubles
        (capped at MAX_G_MULTIPLE x g_width near the base)."""
        n = self.num_blocks
        return [self.g_width * min(2 ** (n - i), MAX_G_MULTIPLE) for i in range(n + 1)]

    def discriminator_widths(self) -> list[int]:
        """Channel widths after each down block, doubling as the side halves (capped)."""
        return [self.d_width * min(2**i, MAX_D_MULTIPLE) for i in range(self.num_blocks)]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> NetConfig:
        d = {"minibatch_std": "batch", **d}  # saved before the option existed: the old D
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})
