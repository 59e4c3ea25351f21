"""ONNX export: uint8 graph, dynamic batch, metadata, checker, parity and its failure."""

from __future__ import annotations

import copy
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from augment_gan.export import onnx_export
from augment_gan.export.onnx_export import (
    ExportError,
    check_parity,
    export_checkpoint,
    export_generator_onnx,
    read_metadata,
)
from augment_gan.run.checkpoint import checkpoint_path, save_checkpoint
from augment_gan.run.samples import to_uint8
from augment_gan.run.spec import DataSpec, RunSpec
from tests.export.helpers import CLASSES, tiny_generator


def _session(data: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("fixture", ["exported_gray", "exported_rgb"])
def test_parity_within_one_level(fixture, request, record_property) -> None:
    cfg, G, data, diff = request.getfixturevalue(fixture)
    record_property(f"parity_max_diff_{cfg.channels}ch", diff)
    print(f"parity max diff ({cfg.channels} channels): {diff}")
    assert diff <= 1
    # a larger batch with another seed too
    assert check_parity(data, G, cfg, batch=64, seed=5) <= 1


@pytest.mark.parametrize("n", [1, 37])
def test_uint8_output_and_dynamic_batch(exported_rgb, n: int) -> None:
    cfg, G, data, _ = exported_rgb
    z = np.random.default_rng(n).standard_normal((n, cfg.latent_dim), dtype=np.float32)
    labels = np.arange(n, dtype=np.int64) % cfg.num_classes
    (images,) = _session(data).run(None, {"z": z, "label": labels})
    assert images.dtype == np.uint8 and images.shape == (n, 3, 32, 32)
    with torch.no_grad():
        expected = to_uint8(G(torch.from_numpy(z), torch.from_numpy(labels))).numpy()
    assert np.abs(images.astype(int) - expected.astype(int)).max() <= 1


def test_graph_signature_metadata_and_checker(exported_gray) -> None:
    cfg, _, data, _ = exported_gray
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["z", "label"]
    assert [o.name for o in model.graph.output] == ["images"]
    assert model.graph.input[1].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {o.domain: o.version for o in model.opset_import}[""] == 17
    meta = read_metadata(data)
    assert json.loads(meta["augment_gan.classes"]) == CLASSES
    assert meta["augment_gan.resolution"] == "32" and meta["augment_gan.channels"] == "1"
    assert meta["augment_gan.latent_dim"] == "8"
    assert meta["augment_gan.name"] == "tiny" and meta["augment_gan.version"] == "1"


def test_metadata_is_embedded_as_given(exported_gray) -> None:
    cfg, G, _, _ = exported_gray
    data = export_generator_onnx(G, cfg, {"a": "1", "classes": '["x"]'})
    assert read_metadata(data) == {"a": "1", "classes": '["x"]'}
    with pytest.raises(TypeError, match="str"):
        export_generator_onnx(G, cfg, {"resolution": 32})  # type: ignore[dict-item]


class _Constant(nn.Module):
    """A 'generator' that draws fixed pixel values, to probe the uint8 mapping exactly."""

    def __init__(self, values: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("values", values.reshape(1, 1, 32, 32))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # uses z and y: an unused input would be dropped from the graph
        return self.values.expand(z.shape[0], -1, -1, -1) + 0.0 * (z[:, :1] + y[:, None]).reshape(-1, 1, 1, 1)


def test_rounding_matches_torch_on_exact_halves(exported_gray) -> None:
    cfg = exported_gray[0]
    # Values whose scaled pixel (x + 1) * 127.5 is exactly k + 0.5 in float32: the
    # rounding rule decides them. Plus out-of-range values the clamp must handle.
    k = torch.arange(255, dtype=torch.float32)
    x = (k + 0.5) / 127.5 - 1
    halves = x[((x + 1) * 127.5) == k + 0.5]
    assert len(halves) > 50
    extra = torch.tensor([-3.0, -1.0, 1.0, 2.5, 0.0, 1e-7, -1e-7])
    values = torch.cat([halves, extra, torch.linspace(-1, 1, 1024 - len(halves) - len(extra))])
    data = export_generator_onnx(_Constant(values), cfg, {})
    (got,) = _session(data).run(None, {"z": np.zeros((2, cfg.latent_dim), np.float32), "label": np.zeros(2, np.int64)})
    expected = to_uint8(values).reshape(1, 1, 32, 32).numpy()
    assert np.array_equal(got[0:1], expected)
    # both round half to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2
    assert torch.round(torch.tensor([0.5, 1.5, 2.5])).tolist() == [0.0, 2.0, 2.0]


def test_parity_failure_raises(exported_gray) -> None:
    cfg, G, data, _ = exported_gray
    other = copy.deepcopy(G)
    with torch.no_grad():
        other.to_image.bias += 0.5  # the torch side no longer matches the exported graph
    with pytest.raises(ExportError, match="differs from PyTorch"):
        check_parity(data, other, cfg)


def _checkpoint(tmp_path, cfg):
    G = tiny_generator(cfg, seed=3)
    path = checkpoint_path(tmp_path / "run", 6)
    save_checkpoint(path, {"step": 6, "G": G.state_dict(), "G_ema": G.state_dict(), "net_config": cfg.to_dict()})
    return G, path, _spec(cfg, CLASSES)


def _spec(cfg, classes) -> RunSpec:
    data = DataSpec("/data", "key", tuple(classes), dict.fromkeys(classes, 4), cfg.resolution, cfg.channels)
    return RunSpec("tiny", data, cfg)


def test_export_checkpoint_returns_bytes_and_card_fields(tmp_path, exported_gray) -> None:
    cfg = exported_gray[0]
    G, path, spec = _checkpoint(tmp_path, cfg)
    data, fields = export_checkpoint(path, spec, version=2)
    assert fields == {
        "classes": CLASSES,
        "resolution": 32,
        "channels": 1,
        "latent_dim": 8,
        "onnx_opset": 17,
        "parity_max_diff": fields["parity_max_diff"],
    }
    assert fields["parity_max_diff"] <= 1
    assert read_metadata(data)["augment_gan.version"] == "2"
    assert check_parity(data, G, cfg) <= 1  # exported the EMA weights


def test_export_checkpoint_fails_on_parity_or_mismatch(tmp_path, exported_gray, monkeypatch) -> None:
    cfg = exported_gray[0]
    _, path, spec = _checkpoint(tmp_path, cfg)
    with pytest.raises(ExportError, match="3 classes|lists 2 classes"):
        export_checkpoint(path, _spec(cfg, ["a", "b"]), version=1)
    real_run = onnx_export._run_onnx
    monkeypatch.setattr(onnx_export, "_run_onnx", lambda data, z, y: 255 - real_run(data, z, y))
    with pytest.raises(ExportError, match="no model dir was written"):
        export_checkpoint(path, spec, version=1)
