"""gpu_check's pieces that decide what a GPU run reports, and what the device scripts carry."""

import re
from pathlib import Path
from types import SimpleNamespace

import onnxruntime
import pytest

from tests.benchmarks.helpers import BENCHMARKS, load_benchmark

REPO = BENCHMARKS.parent


@pytest.fixture(scope="module")
def gpu_check():
    return load_benchmark("gpu_check")


@pytest.mark.parametrize(
    "cuda, providers, skipped",
    [
        (True, ["CPUExecutionProvider"], True),  # the device image's CPU-only onnxruntime: skipped, saying why
        (True, ["CUDAExecutionProvider", "CPUExecutionProvider"], False),
        (False, ["CPUExecutionProvider"], False),  # --quick on CPU: measured on the CPU provider
    ],
)
def test_onnxruntime_parts_skip_only_a_cpu_only_build_beside_a_gpu(
    gpu_check, monkeypatch, cuda, providers, skipped
) -> None:
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: providers)
    result = gpu_check.onnxruntime_without_cuda(SimpleNamespace(cuda=cuda))
    assert (result is not None) == skipped
    if skipped:
        assert "CPU-only build" in result["skipped"] and "onnxruntime-gpu" in result["skipped"]
        assert gpu_check.onnx_generation(SimpleNamespace(cuda=cuda)) == result
        assert gpu_check.service(SimpleNamespace(cuda=cuda)) == result


def test_device_requirements_pin_the_projects_bentoml() -> None:
    pins = dict(
        line.split("==")
        for line in (BENCHMARKS / "device-requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    project = re.search(r'"bentoml==([^"]+)"', (REPO / "pyproject.toml").read_text()).group(1)
    assert pins["bentoml"] == project
    assert all(re.fullmatch(r"[a-z0-9-]+", name) for name in pins)  # normalised names, one pin each


def test_device_scripts_agree_on_the_carried_folder() -> None:
    prepare = (BENCHMARKS / "device_prepare.sh").read_text()
    run = (BENCHMARKS / "device_gpu_check.sh").read_text()
    assert ".device/wheels" in prepare and ".device/wheels/*.whl" in run
    assert ".device/mnist-t10k" in prepare and ".device/mnist-t10k" in run
    assert "/.device/" in (REPO / ".gitignore").read_text().splitlines()
    assert Path(BENCHMARKS / "device_gpu_check.sh").stat().st_mode & 0o111
