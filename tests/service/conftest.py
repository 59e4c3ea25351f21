"""Start the real BentoML server (``bentoml serve``) as a subprocess on a free loopback port.

The server runs from the repository root (``augment_gan.service.app:AugmentGanService``) with one
worker, in its own process group, so teardown kills it and its workers even when a test
fails. Tests skip only when bentoml itself cannot be imported (environment, not code).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.export.helpers import (
    CLASSES,
    export_tiny,
    gate,
    tiny_config,
    write_selecting_model,
    write_tiny_model,
)

REPO = Path(__file__).resolve().parents[2]
SERVICE = "augment_gan.service.app:AugmentGanService"
READY_TIMEOUT_S = 90.0
REJECTED = "eel"  # the class the fixture's gate rejects

requests = pytest.importorskip("requests", reason="the service tests need `requests` (pip install -e '.[dev]')")
pytest.importorskip("bentoml", reason="bentoml is not installed in this environment")


def card_only_model(models_dir: Path, name: str = "m", gate_ran: bool = True) -> Path:
    """``models_dir/name/v1`` with a minimal card (no onnx file), promoted: enough to find and gate-check."""
    version = models_dir / name / "v1"
    version.mkdir(parents=True)
    (version / "card.json").write_text(json.dumps({"format": 1, "name": name, "version": 1, "gate": {"ran": gate_ran}}))
    (models_dir / name / "PROMOTED").write_text("v1\n")
    return version


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: Path

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)  # the group we created: bentoml + its workers
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:  # workers left in the group after the arbiter exited
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def start_server(model_dir: Path, log: Path, **env: str) -> Server:
    port = free_port()
    full_env = {
        **os.environ,
        "AUGMENT_GAN_MODEL": str(model_dir),
        "AUGMENT_GAN_WORKERS": "1",
        "AUGMENT_GAN_THREADS": "1",
        "AUGMENT_GAN_GPU": "0",
        "BENTOML_DO_NOT_TRACK": "True",
        "PYTHONPATH": str(REPO),
        **env,
    }
    if "AUGMENT_GAN_ALLOW_UNGATED" not in env:
        full_env.pop("AUGMENT_GAN_ALLOW_UNGATED", None)
    out = open(log, "wb")  # noqa: SIM115 - handed to the child, closed here right after
    proc = subprocess.Popen(
        [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    return Server(proc, f"http://127.0.0.1:{port}", log)


def wait_ready(server: Server, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"bentoml serve exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"server not ready after {timeout:.0f}s:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def tiny_onnx():
    import torch

    torch.set_num_threads(1)
    cfg = tiny_config(channels=1)
    _, data, _ = export_tiny(cfg, CLASSES)
    return cfg, data


@pytest.fixture(scope="module")
def gated_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """With a judge: every endpoint serves selected samples (rejected ones replaced)."""
    root = tmp_path_factory.mktemp("svc-models")
    return write_selecting_model(
        root, CLASSES, name="tiny", gate_block=gate(CLASSES, failed={REJECTED: ["fid 80 > 40 (n=50)"]})
    )


@pytest.fixture(scope="module")
def ungated_model(tiny_onnx, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg, data = tiny_onnx
    root = tmp_path_factory.mktemp("svc-ungated")
    return write_tiny_model(root, data, cfg, CLASSES, gate_block={"ran": False}, name="ungated")


@pytest.fixture(scope="module")
def server(gated_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(gated_model, tmp_path_factory.mktemp("svc-log") / "server.log")
    try:
        wait_ready(srv)
        yield srv
    finally:
        srv.stop()
