import pytest
import torch

from augment_gan.errors import ConfigError
from augment_gan.nets import Discriminator, Generator, NetConfig


@pytest.mark.parametrize("resolution", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(resolution: int, channels: int) -> None:
    cfg = NetConfig(num_classes=5, resolution=resolution, channels=channels, latent_dim=16, g_width=4, d_width=4)
    G, D = Generator(cfg), Discriminator(cfg)
    z, y = torch.randn(3, 16), torch.tensor([0, 2, 4])
    images = G(z, y)
    assert images.shape == (3, channels, resolution, resolution)
    assert images.min() >= -1 and images.max() <= 1
    assert D(images, y).shape == (3,)


def test_generator_output_depends_on_label() -> None:
    torch.manual_seed(0)
    cfg = NetConfig(num_classes=2, latent_dim=8, g_width=4, d_width=4)
    G = Generator(cfg).eval()
    z = torch.randn(1, 8)
    assert not torch.allclose(G(z, torch.tensor([0])), G(z, torch.tensor([1])))


def test_every_slice_of_z_reaches_the_output() -> None:
    torch.manual_seed(0)
    cfg = NetConfig(num_classes=2, latent_dim=10, g_width=4, d_width=4)
    G = Generator(cfg)
    with torch.no_grad():  # conditional BatchNorms start at zero; give them weights
        for m in G.modules():
            if isinstance(m, torch.nn.Linear) and m is not G.fc:
                m.weight.normal_(0, 0.5)
    G.eval()
    z, y = torch.randn(1, 10), torch.tensor([1])
    base = G(z, y)
    for a, b in G.z_slices:
        dz = torch.zeros_like(z)
        dz[:, a:b] = 1.0
        assert not torch.allclose(G(z + dz, y), base), (a, b)
    assert G.z_slices[0][0] == 0 and G.z_slices[-1][1] == 10


def test_discriminator_projection_uses_label() -> None:
    torch.manual_seed(0)
    cfg = NetConfig(num_classes=2, latent_dim=8, g_width=4, d_width=4)
    D = Discriminator(cfg).eval()
    x = torch.randn(1, 1, 32, 32)
    assert D(x, torch.tensor([0])).item() != D(x, torch.tensor([1])).item()


def test_discriminator_is_spectrally_normalised() -> None:
    cfg = NetConfig(num_classes=2, latent_dim=8, g_width=4, d_width=4)
    D = Discriminator(cfg).train()
    for _ in range(20):  # let power iteration converge
        D(torch.randn(2, 1, 32, 32), torch.tensor([0, 1]))
    conv = D.blocks[0].conv1
    sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2).item()
    assert sigma == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    "kwargs",
    [dict(resolution=48), dict(channels=2), dict(num_classes=0), dict(g_width=0)],
)
def test_bad_config_is_a_clear_error(kwargs: dict) -> None:
    base = dict(num_classes=3)
    with pytest.raises(ConfigError):
        NetConfig(**{**base, **kwargs})


def test_widths_follow_resolution() -> None:
    assert NetConfig(num_classes=1, resolution=32, g_width=8).generator_widths() == [64, 32, 16, 8]
    assert NetConfig(num_classes=1, resolution=64, g_width=8).generator_widths() == [128, 64, 32, 16, 8]
    assert NetConfig(num_classes=1, resolution=64, d_width=8).discriminator_widths() == [8, 16, 32, 64]
