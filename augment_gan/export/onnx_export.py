"""Export the EMA generator to ONNX (uint8 images out) and prove the export matches PyTorch.

The exported graph is the whole path a consumer needs, so consumers never re-implement the
pixel mapping::

    z      float32 (N, latent_dim)   standard-normal noise
    label  int64   (N,)              class index (the card's ``classes`` order)
    images uint8   (N, C, H, W)      ((clamp(G(z, label), -1, 1) + 1) * 127.5).round()

N is a dynamic axis. The mapping is :func:`augment_gan.run.samples.to_uint8`, the one
the training sample grids use. Both ``torch.round`` and ONNX ``Round`` round half to even,
so the two agree on exact .5 values too (tested).

Example::

    onnx_bytes, fields = export_checkpoint(ckpt_path, RunSpec.read(run_dir), version=1)
    # fields: classes, resolution, channels, latent_dim, onnx_opset, parity_max_diff
"""

from __future__ import annotations

import copy
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from augment_gan.errors import AugmentGanError
from augment_gan.nets import Generator, NetConfig
from augment_gan.run.checkpoint import load_checkpoint
from augment_gan.run.samples import to_uint8
from augment_gan.run.spec import RunSpec

DEFAULT_OPSET = 17  # runs on onnxruntime's CPU and CUDA providers; the legacy exporter supports it
INPUT_NAMES = ("z", "label")
OUTPUT_NAME = "images"


class ExportError(AugmentGanError):
    """The generator could not be exported, or the export does not match PyTorch."""


class _UInt8Generator(nn.Module):
    """G followed by the [-1, 1] -> uint8 mapping, so the mapping lives inside the graph."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return to_uint8(self.generator(z, label))


def export_generator_onnx(
    generator: nn.Module,
    net_cfg: NetConfig,
    metadata: dict[str, str],
    *,
    opset: int = DEFAULT_OPSET,
) -> bytes:
    """Serialized ONNX model of ``generator`` in eval mode, with ``metadata`` as metadata_props.

    ``generator`` is not modified (a CPU copy is exported). Metadata values must be strings.

    Example::

        data = export_generator_onnx(G_ema, cfg, {"classes": json.dumps(["a", "b"])})
        onnx.load_from_string(data).metadata_props  # [key: "classes" value: '["a", "b"]']
    """
    bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise TypeError(f"metadata keys and values must be str; not: {bad}")
    wrapped = _UInt8Generator(copy.deepcopy(generator).cpu()).eval()
    example = (torch.zeros(2, net_cfg.latent_dim), torch.arange(2, dtype=torch.int64) % net_cfg.num_classes)
    model = trace_to_onnx(wrapped, example, list(INPUT_NAMES), [OUTPUT_NAME], opset)
    inputs = [i.name for i in model.graph.input]
    if inputs != list(INPUT_NAMES):  # the exporter drops inputs the module ignores
        raise ExportError(
            f"the exported graph takes {inputs}, not {list(INPUT_NAMES)}; the generator must use z and label."
        )
    model.doc_string = (
        "augment-gan class-conditional generator. Inputs: z float32 (N, latent_dim) standard normal, "
        "label int64 (N,) class index. Output: images uint8 (N, C, H, W)."
    )
    model.producer_name = "augment-gan"
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as e:
        raise ExportError(f"the exported ONNX model is invalid ({e}).") from e
    return model.SerializeToString()


def trace_to_onnx(
    module: nn.Module,
    example: tuple[torch.Tensor, ...],
    inputs: list[str],
    outputs: list[str],
    opset: int = DEFAULT_OPSET,
) -> onnx.ModelProto:
    """``module`` traced to ONNX with a dynamic batch axis on every input and output.

    The TorchScript exporter is deprecated in favour of the dynamo one, which needs
    onnxscript (not a dependency); for these small static graphs the old path is exact.
    """
    buffer = io.BytesIO()
    batch = {0: "batch"}
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torch.onnx.export(
                module,
                example,
                buffer,
                input_names=inputs,
                output_names=outputs,
                dynamic_axes={name: batch for name in [*inputs, *outputs]},
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    except Exception as e:  # an unsupported op or opset is a bug or a bad --opset, not a crash
        raise ExportError(
            f"ONNX export failed at opset {opset} ({type(e).__name__}: {e}); try the default opset."
        ) from e
    return onnx.load_from_string(buffer.getvalue())


def cpu_session(onnx_bytes: bytes) -> Any:
    """A one-thread CPU onnxruntime session: for parity batches and promote's own checks,
    which are small and must not compete with training jobs."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


def read_metadata(onnx_bytes: bytes) -> dict[str, str]:
    """The metadata_props of a serialized ONNX model as a dict."""
    return {p.key: p.value for p in onnx.load_from_string(onnx_bytes).metadata_props}


def parity_batch(net_cfg: NetConfig, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed (z, labels) batch covering every class (at least one sample per class)."""
    n = max(batch, net_cfg.num_classes)
    z = np.random.default_rng(seed).standard_normal((n, net_cfg.latent_dim), dtype=np.float32)
    labels = np.arange(n, dtype=np.int64) % net_cfg.num_classes
    return z, labels


def _run_onnx(onnx_bytes: bytes, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return cpu_session(onnx_bytes).run([OUTPUT_NAME], {"z": z, "label": labels})[0]


def check_parity(
    onnx_bytes: bytes,
    generator: nn.Module,
    net_cfg: NetConfig,
    *,
    batch: int = 16,
    seed: int = 0,
    max_diff: int = 1,
) -> int:
    """Max absolute pixel difference between onnxruntime (CPU) and PyTorch on a fixed batch.

    The batch covers every class; the first sample is also run alone, so a batch size baked
    into the graph is caught. Raises :class:`ExportError` when the difference exceeds
    ``max_diff`` (1 allows float differences that cross a rounding boundary).

    Example::

        check_parity(data, G_ema, cfg)  # -> 0 or 1
    """
    z, labels = parity_batch(net_cfg, batch, seed)
    reference = copy.deepcopy(generator).cpu().eval()
    with torch.no_grad():
        expected = to_uint8(reference(torch.from_numpy(z), torch.from_numpy(labels))).numpy()
    got = _run_onnx(onnx_bytes, z, labels)
    single = _run_onnx(onnx_bytes, z[:1], labels[:1])
    if got.shape != expected.shape or got.dtype != np.uint8 or single.shape != expected[:1].shape:
        raise ExportError(
            f"the ONNX model returns {got.dtype} {got.shape} (batch 1: {single.shape}), expected uint8 "
            f"{expected.shape}; the export is broken, re-export from the checkpoint."
        )
    diff = max(
        int(np.abs(got.astype(np.int16) - expected.astype(np.int16)).max()),
        int(np.abs(single.astype(np.int16) - expected[:1].astype(np.int16)).max()),
    )
    if diff > max_diff:
        raise ExportError(
            f"the ONNX model differs from PyTorch by up to {diff} pixel levels (allowed: {max_diff}); "
            "the export is not trustworthy, so no model dir was written."
        )
    return diff


def export_metadata(classes: list[str], net_cfg: NetConfig, *, name: str, version: int | str) -> dict[str, str]:
    """The metadata_props an augment-gan model carries (everything a bare ONNX user needs)."""
    return {
        "augment_gan.name": str(name),
        "augment_gan.version": str(version),
        "augment_gan.classes": json.dumps(list(classes)),
        "augment_gan.resolution": str(net_cfg.resolution),
        "augment_gan.channels": str(net_cfg.channels),
        "augment_gan.latent_dim": str(net_cfg.latent_dim),
        "augment_gan.output": "uint8 NCHW, ((clamp(x,-1,1)+1)*127.5).round()",
    }


def export_checkpoint(
    checkpoint_path: Path,
    spec: RunSpec,
    *,
    version: int | str,
    opset: int = DEFAULT_OPSET,
) -> tuple[bytes, dict[str, Any]]:
    """Export a checkpoint's EMA generator of the run ``spec``; returns (onnx bytes, card fields)
    (:func:`export_run_generator`).

    Example::

        run = Run.open(run_dir)
        data, fields = export_checkpoint(run.checkpoint("latest")[1], run.spec, version=3)
    """
    state = load_checkpoint(Path(checkpoint_path))
    if "G_ema" not in state:
        raise ExportError(
            f"checkpoint {checkpoint_path} has no EMA generator (G_ema); export a checkpoint written by `train`."
        )
    net_cfg = NetConfig.from_dict(state["net_config"]) if "net_config" in state else spec.net
    generator = Generator(net_cfg)
    try:
        generator.load_state_dict(state["G_ema"])
    except RuntimeError as e:
        raise ExportError(f"checkpoint {checkpoint_path} does not match its net config ({e}).") from e
    generator.eval()  # EMA BatchNorm stats were re-estimated before saving
    return export_run_generator(generator, net_cfg, spec, version=version, opset=opset)


def export_run_generator(
    generator: nn.Module,
    net_cfg: NetConfig,
    spec: RunSpec,
    *,
    version: int | str,
    opset: int = DEFAULT_OPSET,
) -> tuple[bytes, dict[str, Any]]:
    """Export a generator of the run ``spec`` (one checkpoint's EMA generator, or a
    :class:`~augment_gan.nets.routed.ClassRouted` over several, eval mode); returns (onnx
    bytes, card fields).

    The parity check runs before returning, so a failed export raises :class:`ExportError`
    and the caller writes no model dir. Card fields: classes, resolution, channels,
    latent_dim, onnx_opset, parity_max_diff.
    """
    classes, name = list(spec.data.classes), spec.name
    if len(classes) != net_cfg.num_classes:
        raise ExportError(
            f"the run config lists {len(classes)} classes but the checkpoint's generator has "
            f"{net_cfg.num_classes}; export from the run dir the checkpoint belongs to."
        )
    onnx_bytes = export_generator_onnx(
        generator, net_cfg, export_metadata(classes, net_cfg, name=name, version=version), opset=opset
    )
    diff = check_parity(onnx_bytes, generator, net_cfg)
    fields = {
        "classes": classes,
        "resolution": net_cfg.resolution,
        "channels": net_cfg.channels,
        "latent_dim": net_cfg.latent_dim,
        "onnx_opset": opset,
        "parity_max_diff": diff,
    }
    return onnx_bytes, fields
