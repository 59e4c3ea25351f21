import pytest
import torch

from augment_gan.errors import ConfigError
from augment_gan.nets import Discriminator, Generator, NetConfig
from augment_gan.nets.discriminator import class_minibatch_std, minibatch_std


@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
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
    [dict(resolution=48), dict(channels=2), dict(num_classes=0), dict(g_width=0), dict(minibatch_std="group")],
)
def test_bad_config_is_a_clear_error(kwargs: dict) -> None:
    base = dict(num_classes=3)
    with pytest.raises(ConfigError):
        NetConfig(**{**base, **kwargs})


def test_widths_follow_resolution() -> None:
    assert NetConfig(num_classes=1, resolution=32, g_width=8).generator_widths() == [64, 32, 16, 8]
    assert NetConfig(num_classes=1, resolution=64, g_width=8).generator_widths() == [128, 64, 32, 16, 8]
    assert NetConfig(num_classes=1, resolution=64, d_width=8).discriminator_widths() == [8, 16, 32, 64]
    # past 64 px the widths stop growing: G at 16 x its base width, D at 8 x
    assert NetConfig(num_classes=1, resolution=128, g_width=8).generator_widths() == [128, 128, 64, 32, 16, 8]
    assert NetConfig(num_classes=1, resolution=256, d_width=8).discriminator_widths() == [8, 16, 32, 64, 64, 64]


def test_nets_and_the_folder_loader_accept_the_same_resolutions() -> None:
    from augment_gan.data import SUPPORTED_RESOLUTIONS
    from augment_gan.nets.config import RESOLUTIONS

    assert RESOLUTIONS == SUPPORTED_RESOLUTIONS


@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
def test_default_nets_keep_a_sensible_parameter_count(resolution: int) -> None:
    """The default widths at every size: the 32 and 64 px nets are those trained before 128
    existed, and the caps keep 128/256 px within ~3x of the 64 px nets."""
    cfg = NetConfig(num_classes=10, resolution=resolution)
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    g, d = count(Generator(cfg)), count(Discriminator(cfg))
    assert 0.5e6 < g < 10e6 and 0.5e6 < d < 10e6, (g, d)


def test_class_minibatch_std_sees_a_collapsed_class_that_the_batch_std_misses() -> None:
    """Every class drawn as one image: the whole-batch spread stays high (the classes
    differ), the per-class spread is 0; varied images of each class give a positive one."""
    g = torch.Generator().manual_seed(0)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    one_per_class = torch.randn(3, 4, 2, 2, generator=g)
    collapsed = one_per_class[y]
    varied = collapsed + 0.5 * torch.randn(8, 4, 2, 2, generator=g)
    assert minibatch_std(collapsed).mean() > 0.5
    assert class_minibatch_std(collapsed, y, 3).abs().max() < 1e-3
    assert class_minibatch_std(varied, y, 3).min() > 0.1


def test_class_minibatch_std_is_each_class_spread_and_zero_for_a_lone_sample() -> None:
    g = torch.Generator().manual_seed(1)
    h, y = torch.randn(5, 3, 2, 2, generator=g), torch.tensor([0, 0, 1, 0, 2])
    out = class_minibatch_std(h, y, 4)
    assert out.shape == (5, 1, 2, 2)
    first = h[y == 0]
    expected = (first.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
    for i in (0, 1, 3):
        assert out[i].flatten().tolist() == pytest.approx([expected.item()] * 4, rel=1e-5)
    assert out[2].abs().max() == 0 and out[4].abs().max() == 0  # classes 1 and 2: one sample each


def test_discriminator_minibatch_std_follows_the_config() -> None:
    x, y = torch.randn(4, 1, 32, 32), torch.tensor([0, 0, 1, 1])
    scores = {}
    for kind in ("class", "batch"):
        torch.manual_seed(0)
        D = Discriminator(NetConfig(num_classes=2, latent_dim=8, g_width=4, d_width=4, minibatch_std=kind)).eval()
        scores[kind] = D(x, y)
    assert not torch.allclose(scores["class"], scores["batch"])  # same weights, different feature


def test_configs_saved_before_the_option_rebuild_the_old_discriminator() -> None:
    saved = dict(num_classes=3, resolution=32, channels=1, latent_dim=8, g_width=4, d_width=4)
    assert NetConfig.from_dict(saved).minibatch_std == "batch"
    assert NetConfig.from_dict(NetConfig(num_classes=3).to_dict()).minibatch_std == "class"


def test_class_minibatch_std_backward_repeats_bit_for_bit() -> None:
    """Training must repeat exactly (resume is tested bit for bit); the backward of indexing
    by y accumulated in a varying order on CPU (max grad diff 5e-10 over 20 tries)."""
    g = torch.Generator().manual_seed(0)
    h0, y = torch.randn(64, 64, 4, 4, generator=g), torch.randint(0, 10, (64,), generator=g)
    w = torch.randn(64, 1, 4, 4, generator=g)
    grads = []
    for _ in range(20):
        h = h0.clone().requires_grad_()
        (class_minibatch_std(h, y, 10) * w).sum().backward()
        grads.append(h.grad)
    assert all(torch.equal(grad, grads[0]) for grad in grads)
