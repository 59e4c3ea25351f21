"""A routed generator: each class from its own generator, in batch order, also in ONNX."""

import numpy as np
import pytest
import torch

from augment_gan.export.onnx_export import check_parity, cpu_session, export_generator_onnx
from augment_gan.nets import Generator, NetConfig
from augment_gan.nets.routed import ClassRouted

CFG = NetConfig(num_classes=3, g_width=4, d_width=4, latent_dim=8)


def _generators() -> list[Generator]:
    out = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        out.append(Generator(CFG).eval())
    return out


def test_each_class_comes_from_its_generator_in_batch_order() -> None:
    first, second = _generators()
    routed = ClassRouted([first, second], [0, 1, 0]).eval()
    z, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 1, 0, 2])
    with torch.no_grad():
        out = routed(z, y)
        for i in range(6):
            source = second if y[i] == 1 else first
            assert torch.allclose(out[i], source(z[i : i + 1], y[i : i + 1])[0], atol=1e-6)


def test_a_route_must_use_every_generator() -> None:
    with pytest.raises(ValueError, match="must use each of the 2 generators"):
        ClassRouted(_generators(), [0, 0, 0])


def test_the_onnx_graph_routes_too_even_when_a_generator_gets_no_sample() -> None:
    routed = ClassRouted(_generators(), [0, 1, 0]).eval()
    data = export_generator_onnx(routed, CFG, {})
    assert check_parity(data, routed, CFG) <= 1
    session = cpu_session(data)
    z = np.random.default_rng(0).standard_normal((3, 8), dtype=np.float32)
    for labels in ([0, 2, 0], [1, 1, 1], []):  # the second generator alone, the first alone, nothing
        y = np.array(labels, dtype=np.int64)
        images = session.run(["images"], {"z": z[: len(y)], "label": y})[0]
        assert images.shape == (len(y), 1, 32, 32) and images.dtype == np.uint8
