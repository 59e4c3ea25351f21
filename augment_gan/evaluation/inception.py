"""The ``"inception"`` feature extractor: FID's InceptionV3, 2048-d pool3 features.

Numerically the network of pytorch-fid's ``InceptionV3([3])`` (and torch-fidelity's
``inception-v3-compat``): torchvision's InceptionV3 layout with 1008 classes and no
auxiliary head, whose Mixed_5b–d, 6b–e, 7b and 7c blocks are patched to behave like the
TensorFlow graph the FID reference weights come from (average pools that ignore the zero
padding, and a max pool in the last block). Inputs are resized to 299×299 bilinearly with
``align_corners=False`` and scaled to [-1, 1], in pytorch-fid's order.

The weights are never downloaded: they are read from a local copy of the file pytorch-fid
and torch-fidelity use, given as ``weights_path`` or by the environment variable
``AUGMENT_GAN_INCEPTION_WEIGHTS``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.inception import Inception3, InceptionA, InceptionC, InceptionE

from augment_gan.errors import WeightsNotFoundError
from augment_gan.evaluation.extractors import FeatureExtractor

WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
#: Where the file is normally obtained (pytorch-fid's FID_WEIGHTS_URL); fetch it by hand.
WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILENAME
WEIGHTS_ENV_VAR = "AUGMENT_GAN_INCEPTION_WEIGHTS"
INPUT_SIZE = 299
FEATURE_DIM = 2048


class FIDInceptionA(InceptionA):
    """InceptionA whose average pool ignores the zero padding, like TensorFlow's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class FIDInceptionC(InceptionC):
    """InceptionC whose average pool ignores the zero padding, like TensorFlow's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        branch7x7dbl = self.branch7x7dbl_3(self.branch7x7dbl_2(branch7x7dbl))
        branch7x7dbl = self.branch7x7dbl_5(self.branch7x7dbl_4(branch7x7dbl))
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        branch_pool = self.branch_pool(branch_pool)
        return torch.cat([branch1x1, branch7x7, branch7x7dbl, branch_pool], 1)


class FIDInceptionE1(InceptionE):
    """First InceptionE (Mixed_7b): average pool ignoring the zero padding."""

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch1x1 = self.branch1x1(x)
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)], 1)
        branch_pool = self.branch_pool(self._pool(x))
        return torch.cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], 1)


class FIDInceptionE2(FIDInceptionE1):
    """Second InceptionE (Mixed_7c): a max pool where the paper has an average pool.

    The TensorFlow FID graph has this quirk, so the reference weights expect it.
    """

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


def build_fid_inception_v3() -> Inception3:
    """Return the FID InceptionV3 architecture with untrained weights (nothing is downloaded)."""
    # num_classes=1008 and no aux head so the reference state dict loads strictly;
    # init_weights=False skips torchvision's slow truncated-normal init that the loaded
    # weights would overwrite anyway.
    net = Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE1(1280)
    net.Mixed_7c = FIDInceptionE2(2048)
    return net


# The layers from the input to pool3, in order (torchvision's attribute names).
_POOL3_LAYERS = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1",
    "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2",
    "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
    "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool",
)  # fmt: skip


class InceptionV3Features(FeatureExtractor):
    """FID InceptionV3 pool3 features: uint8 N×3×H×W images → float32 N×2048."""

    feature_dim = FEATURE_DIM
    needs_rgb = True

    def __init__(self, state_dict: dict[str, torch.Tensor] | None = None) -> None:
        """Build the network; load ``state_dict`` (the reference weights) when given."""
        super().__init__()
        self.net = build_fid_inception_v3()
        if state_dict is not None:
            self.net.load_state_dict(state_dict, strict=True)
        self.net.requires_grad_(False)
        self.eval()

    def forward(self, images_uint8: torch.Tensor) -> torch.Tensor:
        """Return pool3 features for uint8 RGB images of any size (resized to 299×299)."""
        shape = tuple(images_uint8.shape)
        if images_uint8.dtype != torch.uint8 or len(shape) != 4 or shape[1] != 3:
            raise ValueError(
                "The inception extractor takes uint8 images of shape N×3×H×W, got "
                f"{images_uint8.dtype} {shape}; use extract_features() to "
                "convert grayscale."
            )
        # Same operations, in the same order, as pytorch-fid on ToTensor() input
        # (x / 255, then resize, then 2x - 1), so the features match bit for bit.
        x = images_uint8.float().div(255)
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        for name in _POOL3_LAYERS:
            x = getattr(self.net, name)(x)
        return torch.flatten(x, 1)


def unbiased_logits(extractor: InceptionV3Features, pool3_features: np.ndarray) -> torch.Tensor:
    """The 1008-class logits without the fc bias, from pool3 features: the layer
    torch-fidelity computes its Inception Score on (``logits_unbiased``)."""
    return torch.from_numpy(np.asarray(pool3_features, dtype=np.float32)) @ extractor.net.fc.weight.detach().t()


def _missing_weights_message(looked_at: Path | None) -> str:
    where = f" (looked for {looked_at})" if looked_at is not None else ""
    return (
        f"The FID Inception weights file {WEIGHTS_FILENAME} is missing{where}: download it by "
        f"hand from {WEIGHTS_URL} and pass its path with --inception-weights PATH or set the "
        f"environment variable {WEIGHTS_ENV_VAR}."
    )


def resolve_weights_path(weights_path: str | os.PathLike[str] | None = None) -> Path:
    """Return the Inception weights file: ``weights_path``, else ``$AUGMENT_GAN_INCEPTION_WEIGHTS``.

    Either may also name a directory holding ``pt_inception-2015-12-05-6726825d.pth``.
    Raises :class:`~augment_gan.errors.WeightsNotFoundError` when no file is found.
    """
    candidate = weights_path if weights_path is not None else os.environ.get(WEIGHTS_ENV_VAR)
    if candidate is None or str(candidate) == "":
        raise WeightsNotFoundError(_missing_weights_message(None))
    path = Path(candidate).expanduser()
    if path.is_dir():
        path = path / WEIGHTS_FILENAME
    if not path.is_file():
        raise WeightsNotFoundError(_missing_weights_message(path))
    return path


def load_inception(weights_path: str | os.PathLike[str] | None = None) -> InceptionV3Features:
    """Return the ``"inception"`` extractor with the reference FID weights, on the CPU.

    Raises :class:`~augment_gan.errors.WeightsNotFoundError` when the weights file is
    missing, unreadable or not the FID Inception weights.
    """
    path = resolve_weights_path(weights_path)
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for a corrupt file
        raise WeightsNotFoundError(
            f"The FID Inception weights file {path} could not be read ({type(error).__name__}); "
            f"download {WEIGHTS_FILENAME} again by hand from {WEIGHTS_URL}."
        ) from error
    try:
        return InceptionV3Features(state_dict)
    except (RuntimeError, TypeError, AttributeError) as error:
        raise WeightsNotFoundError(
            f"The file {path} does not hold the FID Inception weights; pass the path of "
            f"{WEIGHTS_FILENAME}, downloaded by hand from {WEIGHTS_URL}."
        ) from error
