"""The onnxruntime OnnxGenerator: loading checks, determinism, shapes, errors, quiet CPU start, no torch."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from augment_gan.contracts.model_dir import ModelError
from augment_gan.errors import AugmentGanError
from augment_gan.run.samples import to_uint8
from augment_gan.runtime.augmenter import Augmenter
from augment_gan.runtime.generator import OnnxGenerator, UnknownClassError
from tests.export.helpers import CLASSES, write_tiny_model

CPU = ["CPUExecutionProvider"]


def _load(model_dir: Path, **kw) -> OnnxGenerator:
    return OnnxGenerator.load(model_dir, providers=kw.pop("providers", CPU), intra_op_threads=1, **kw)


def test_load_by_path_and_by_name(model_dir: Path) -> None:
    gen = _load(model_dir)
    assert gen.classes == CLASSES and (gen.resolution, gen.channels, gen.latent_dim) == (32, 1, 8)
    assert gen.providers == CPU and gen.card["version"] == 1
    by_name = OnnxGenerator.load("tiny", models_dir=model_dir.parent.parent, providers=CPU, intra_op_threads=1)
    assert by_name.model_dir == model_dir


def test_generate_matches_torch(model_dir: Path, exported_gray) -> None:
    cfg, G, _, _ = exported_gray
    gen = _load(model_dir)
    images = gen.generate("dog", 5, seed=3)
    z = np.random.default_rng(3).standard_normal((5, 8), dtype=np.float32)
    with torch.no_grad():
        expected = to_uint8(G(torch.from_numpy(z), torch.full((5,), 1))).numpy().transpose(0, 2, 3, 1)
    assert np.abs(images.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("fixture", ["model_dir", "rgb_model_dir"])
def test_generate_shape_dtype_and_pil(fixture: str, request) -> None:
    gen = _load(request.getfixturevalue(fixture))
    c = gen.channels
    for n in (1, 3):
        images = gen.generate(0, n, seed=1)
        assert images.shape == (n, 32, 32, c) and images.dtype == np.uint8
    pils = gen.generate_pil("eel", 2, seed=1)
    assert [p.mode for p in pils] == ["L" if c == 1 else "RGB"] * 2 and pils[0].size == (32, 32)
    assert np.array_equal(np.asarray(pils[0]).reshape(32, 32, c), gen.generate("eel", 2, seed=1)[0])


def test_seed_determinism_and_batch_size_independence(model_dir: Path) -> None:
    gen = _load(model_dir)
    a = gen.generate("cat", 10, seed=7)
    assert np.array_equal(a, gen.generate("cat", 10, seed=7))
    assert not np.array_equal(a, gen.generate("cat", 10, seed=8))
    for batch_size in (1, 3, 4, 256):
        assert np.array_equal(a, gen.generate("cat", 10, seed=7, batch_size=batch_size))
    assert np.array_equal(a[:4], gen.generate("cat", 4, seed=7))  # a prefix of the same noise
    assert not np.array_equal(a, gen.generate("dog", 10, seed=7))  # the label matters
    assert gen.generate_from_latents(gen.latents(10, 7), [0] * 10).tobytes() == a.tobytes()


def test_unknown_class_and_bad_n(model_dir: Path) -> None:
    gen = _load(model_dir)
    for bad in ("bird", 3, -1):
        with pytest.raises(UnknownClassError, match=r"\['cat', 'dog', 'eel'\]") as info:
            gen.generate(bad, 2)
        assert isinstance(info.value, ValueError) and isinstance(info.value, AugmentGanError)
    with pytest.raises(AugmentGanError, match="positive integer"):
        gen.generate("cat", 0)


def test_gate_accessors(tmp_path: Path, exported_gray) -> None:
    cfg, _, data, _ = exported_gray
    from tests.export.helpers import gate

    gated = write_tiny_model(tmp_path / "m", data, cfg, CLASSES, gate_block=gate(CLASSES, {"eel": ["fid 140 > 100"]}))
    gen = _load(gated)
    assert gen.gate_ran and gen.gate_passed("cat") and not gen.gate_passed(2)
    assert gen.gate_reasons("eel") == ["fid 140 > 100"] and gen.gate_reasons("cat") == []
    ungated = write_tiny_model(tmp_path / "u", data, cfg, CLASSES, gate_block={"ran": False})
    gen = _load(ungated)
    assert not gen.gate_ran and not gen.gate_passed("cat")
    with pytest.raises(ModelError, match="allow_ungated=True"):
        _load(ungated, allow_ungated=False)


def test_tampered_file_is_rejected(model_dir: Path) -> None:
    path = model_dir / "generator.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="modified or truncated"):
        _load(model_dir)


def test_truncated_file_is_rejected(model_dir: Path) -> None:
    path = model_dir / "generator.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError, match="modified or truncated"):
        _load(model_dir)


def test_file_swapped_after_load_is_rejected_when_reopened(model_dir: Path) -> None:
    gen = _load(model_dir, lazy=True)
    (model_dir / "generator.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="modified or truncated"):
        gen.generate("cat", 1)


def test_pickle_drops_the_session(model_dir: Path) -> None:
    gen = _load(model_dir)
    assert gen.session_open
    copy = pickle.loads(pickle.dumps(gen))
    assert copy._session is None and not copy.session_open
    assert np.array_equal(copy.generate("dog", 2, seed=0), gen.generate("dog", 2, seed=0))


def test_auto_provider_on_cpu_machine_prints_nothing(model_dir: Path, capfd) -> None:
    if os.path.exists("/dev/nvidia0"):
        pytest.skip("a GPU is present: CUDA may legitimately be chosen")
    capfd.readouterr()
    gen = OnnxGenerator.load(model_dir, providers="auto", intra_op_threads=1)
    gen.generate("cat", 2, seed=0)
    out, err = capfd.readouterr()
    assert gen.providers == CPU
    assert out == "" and err == ""


def test_augmenter_facade(model_dir: Path) -> None:
    aug = Augmenter.load(model_dir, providers=CPU, intra_op_threads=1)
    assert aug.classes == CLASSES and aug.card["name"] == "tiny" and aug.gate_passed("dog")
    assert np.array_equal(aug.generate("dog", 3, seed=2), aug.generator.generate("dog", 3, seed=2))
    assert aug.generate_pil(1, 1, seed=2)[0].mode == "L"


def test_runtime_does_not_import_torch(model_dir: Path) -> None:
    code = (
        "import sys\n"
        "import augment_gan, augment_gan.runtime\n"
        "from augment_gan.runtime.generator import OnnxGenerator\n"
        "from augment_gan.runtime.augmenter import Augmenter\n"
        f"aug = Augmenter.load({str(model_dir)!r}, intra_op_threads=1)\n"
        "assert aug.generate('cat', 3, seed=0).shape == (3, 32, 32, 1)\n"
        "aug.generate_pil(0, 1)\n"
        "heavy = [m for m in ('torch', 'torchvision', 'augment_gan.nets', 'augment_gan.training') if m in sys.modules]\n"
        "print('imported:', heavy)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""


def test_explicit_cuda_on_cpu_machine_falls_back_with_one_log_line(model_dir: Path, capfd, caplog) -> None:
    if os.path.exists("/dev/nvidia0"):
        pytest.skip("a GPU is present")
    capfd.readouterr()
    gen = _load(model_dir, providers=["CUDAExecutionProvider"])
    out, err = capfd.readouterr()
    assert gen.providers == CPU and "onnxruntime:Default" not in err + out
    assert "could not start CUDAExecutionProvider" in caplog.text


def test_unknown_provider_is_a_config_error(model_dir: Path) -> None:
    with pytest.raises(AugmentGanError, match="no provider"):
        _load(model_dir, providers=["NoSuchExecutionProvider"])
    with pytest.raises(AugmentGanError, match="'auto'"):
        _load(model_dir, providers="cuda")
