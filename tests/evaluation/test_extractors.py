"""The extractor registry and the batching helper."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augment_gan.errors import ConfigError
from augment_gan.evaluation import extractors
from augment_gan.evaluation.extractors import (
    FeatureExtractor,
    available_extractors,
    extract_features,
    get_extractor,
    register_extractor,
)


class ChannelMeans(FeatureExtractor):
    """Per-channel mean of each image, recording the shapes it was called with."""

    def __init__(self, needs_rgb: bool) -> None:
        super().__init__()
        self.needs_rgb = needs_rgb
        self.feature_dim = 3 if needs_rgb else 1
        self.scale = torch.nn.Parameter(torch.ones(()))
        self.calls: list[tuple[tuple[int, ...], bool, bool]] = []

    def forward(self, images_uint8: torch.Tensor) -> torch.Tensor:
        self.calls.append((tuple(images_uint8.shape), torch.is_inference_mode_enabled(), self.training))
        return images_uint8.float().mean(dim=(2, 3)) * self.scale


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extractors, "_REGISTRY", dict(extractors._REGISTRY))


def test_inception_is_available_without_importing_it() -> None:
    assert "inception" in available_extractors()


def test_unknown_name_lists_the_available_ones(clean_registry) -> None:
    register_extractor("domain", lambda **kw: ChannelMeans(needs_rgb=False))
    with pytest.raises(ConfigError) as error:
        get_extractor("incepton")
    assert str(error.value) == "Unknown feature extractor 'incepton'; choose one of: domain, inception."


def test_register_and_get_passes_kwargs(clean_registry) -> None:
    register_extractor("domain", lambda needs_rgb=False: ChannelMeans(needs_rgb))
    assert available_extractors() == ["domain", "inception"]
    assert get_extractor("domain", needs_rgb=True).needs_rgb
    with pytest.raises(ValueError, match="already registered"):
        register_extractor("domain", lambda: ChannelMeans(False))
    register_extractor("domain", lambda: ChannelMeans(True), overwrite=True)
    assert get_extractor("domain").needs_rgb
    register_extractor("broken", lambda: torch.nn.Linear(1, 1))
    with pytest.raises(TypeError, match="not a FeatureExtractor"):
        get_extractor("broken")


def test_grayscale_is_repeated_to_rgb_when_needed() -> None:
    gray = torch.randint(0, 256, (5, 1, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    rgb_extractor = ChannelMeans(needs_rgb=True)
    features = extract_features(rgb_extractor, gray, batch_size=2)
    expected = gray.float().mean(dim=(2, 3)).repeat(1, 3).numpy()
    assert features.dtype == np.float32 and features.shape == (5, 3)
    np.testing.assert_array_equal(features, expected)
    # Batches of 2, 2, 1, each with 3 channels, in inference mode and eval mode.
    assert rgb_extractor.calls == [
        ((2, 3, 4, 4), True, False),
        ((2, 3, 4, 4), True, False),
        ((1, 3, 4, 4), True, False),
    ]
    assert rgb_extractor.training  # mode restored

    gray_extractor = ChannelMeans(needs_rgb=False)
    np.testing.assert_array_equal(extract_features(gray_extractor, gray.numpy()), gray.float().mean(dim=(2, 3)).numpy())
    assert gray_extractor.calls[0][0] == (5, 1, 4, 4)


def test_bad_images_are_rejected() -> None:
    extractor = ChannelMeans(needs_rgb=True)
    with pytest.raises(ValueError, match="uint8"):
        extract_features(extractor, torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="N×C×H×W"):
        extract_features(extractor, torch.zeros(2, 4, 4, 4, dtype=torch.uint8))
